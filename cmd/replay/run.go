package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/replay"
)

// Exit statuses (see exitHelp).
const (
	exitOK          = 0
	exitUndelivered = 1
	exitUsage       = 2
)

// summaryHelp documents every field of the JSON summary (replay.Summary), as --help prints it.
const summaryHelp = `The last line on stdout is a JSON summary of the run (replay.Summary):
  objects       lake objects (or event store hour shards) read
  read          events read: read = filtered + oversized + delivered + failed,
                or with --dry-run, read = filtered + oversized + wouldDeliver
  filtered      events read that --type, --from or --to left out
  delivered     events the target accepted (0 with --dry-run)
  wouldDeliver  with --dry-run, events that would have been sent (0 otherwise)
  failed        events whose delivery failed, batch by batch on stderr (0 with --dry-run)
  oversized     events too large for any one call: named on stderr, never sent
  malformed     lake lines that are not events, named on stderr (not counted in read)
  batches       batches made: one Invoke each (one PutRecords batch for a stream);
                with --dry-run, the batches that would have been sent
  invocations   calls made to deliver: Invoke, or PutRecords with its retries
                (0 with --dry-run; the check of the target is not counted)
  bytes         payload size of the batches made, delivered, failed or not sent
  dryRun        true with --dry-run: nothing was sent
  done          true when the run reached the end; false when it was interrupted
                or stopped by an error
  checkpoint    the last object all of whose events were dealt with (left out when none)
  resumedAfter  the --checkpoint position the run started after (left out when none)
  problems      the first 100 malformed lines, oversized events and failed batches
                (left out when none)
`

// exitHelp documents the exit statuses, as --help prints them.
const exitHelp = `Exit status:
  0  every event the filters kept was delivered (with --dry-run: the target may be
     delivered to, and no event is oversized)
  1  something was not delivered: failed or oversized events; an interrupted run (run again
     with the same --checkpoint to resume); or a target that does not exist or may not be
     invoked, found before reading: nothing is read or sent then
  2  wrong usage: a flag missing, unknown or out of range; nothing is called
`

type flagHelp struct{ name, usage, example string }

var flagDocs = []flagHelp{
	{"bucket", "the data lake bucket (this, or --table)", "--bucket eventlake-lake-bucket"},
	{"table", "replay from the event store table instead of the lake; needs --from and --to", "--table eventlake-events"},
	{"shards", "with --table: the event store's write shards per hour, as its construct's Shards (a replay with fewer misses events)", "--shards 32"},
	{"prefix", "replay keys under this prefix: the lake, a month, a day, an hour", "--prefix events/2026/11/21/"},
	{"function", "the function to replay into: name or ARN, alias included (this or --stream)", "--function orders-projector:live"},
	{"stream", "the replay stream to write into: its ARN (this or --function)", "--stream arn:aws:kinesis:us-east-1:111111111111:stream/replay"},
	{"from", "replay events that arrived at or after this RFC 3339 time", "--from 2026-11-21T09:00:00Z"},
	{"to", "replay events that arrived at or before this RFC 3339 time", "--to 2026-11-21T10:00:00Z"},
	{"type", "replay only events of this type: exact, or a glob", "--type 'order-*'"},
	{"dry-run", "show what would be replayed and check the permission to invoke; send nothing", "--dry-run"},
	{"batch-size", "most events per invocation", "--batch-size 500"},
	{"concurrency", "parallel lanes (one invocation in flight each); a key's events always share a lane", "--concurrency 8"},
	{"rate", "most invocations per second over all lanes (0: no limit)", "--rate 20"},
	{"async-limit", "payload bytes up to which a batch goes as an asynchronous Event invocation", "--async-limit 262144"},
	{"sync", "send every batch as RequestResponse, so the function also sees each key's events in order", "--sync"},
	{"checkpoint", "file that records progress; run again with it to resume where a run stopped", "--checkpoint replay-orders.json"},
	{"source-arn", "the original stream's ARN, set as each record's eventSourceARN", "--source-arn arn:aws:kinesis:us-east-1:111111111111:stream/events"},
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

type settings struct {
	opts                     replay.Options
	function, stream, cpFile string
	from, to, table          string
	shards                   int
}

// maxShards is the most write shards an event store may have (constructs/eventstore's Shards).
const maxShards = 256

func parse(args []string, stderr io.Writer) (settings, error) {
	var s settings
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	help := map[string]string{}
	for _, d := range flagDocs {
		help[d.name] = d.usage
	}
	fs.StringVar(&s.opts.Bucket, "bucket", "", help["bucket"])
	fs.StringVar(&s.table, "table", "", help["table"])
	fs.IntVar(&s.shards, "shards", eventstore.DefaultShards, help["shards"])
	fs.StringVar(&s.opts.Prefix, "prefix", "events/", help["prefix"])
	fs.StringVar(&s.function, "function", "", help["function"])
	fs.StringVar(&s.stream, "stream", "", help["stream"])
	fs.StringVar(&s.from, "from", "", help["from"])
	fs.StringVar(&s.to, "to", "", help["to"])
	fs.StringVar(&s.opts.Type, "type", "", help["type"])
	fs.BoolVar(&s.opts.DryRun, "dry-run", false, help["dry-run"])
	fs.IntVar(&s.opts.BatchSize, "batch-size", replay.DefaultBatchSize, help["batch-size"])
	fs.IntVar(&s.opts.Concurrency, "concurrency", replay.DefaultConcurrency, help["concurrency"])
	fs.Float64Var(&s.opts.Rate, "rate", 0, help["rate"])
	fs.IntVar(&s.opts.AsyncLimit, "async-limit", replay.DefaultAsyncLimit, help["async-limit"])
	fs.BoolVar(&s.opts.Sync, "sync", false, help["sync"])
	fs.StringVar(&s.cpFile, "checkpoint", "", help["checkpoint"])
	fs.StringVar(&s.opts.SourceARN, "source-arn", "", help["source-arn"])
	fs.Usage = func() { usage(stderr, fs) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return s, err
		}
		return s, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return s, &usageError{fmt.Sprintf("unexpected argument %q: every option is a flag", fs.Arg(0))}
	}
	if (s.opts.Bucket == "") == (s.table == "") {
		return s, &usageError{"give exactly one of --bucket (the lake) and --table (the event store)"}
	}
	if s.table != "" && (s.from == "" || s.to == "") {
		return s, &usageError{"--table reads the event store by time range: give --from and --to"}
	}
	if s.shards < 1 || s.shards > maxShards {
		return s, &usageError{fmt.Sprintf("--shards %d: must be from 1 to %d, the event store's write shards per hour", s.shards, maxShards)}
	}
	if (s.function == "") == (s.stream == "") {
		return s, &usageError{"give exactly one of --function and --stream"}
	}
	if s.stream != "" && !strings.HasPrefix(s.stream, "arn:") {
		return s, &usageError{fmt.Sprintf("--stream %q: give the replay stream's ARN", s.stream)}
	}
	for _, t := range []struct {
		name, value string
		into        *time.Time
	}{{"from", s.from, &s.opts.From}, {"to", s.to, &s.opts.To}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return s, &usageError{fmt.Sprintf("--%s %q: not an RFC 3339 time such as 2026-11-21T09:00:00Z", t.name, t.value)}
		}
		*t.into = v
	}
	if s.opts.BatchSize < 1 || s.opts.BatchSize > replay.MaxBatchSize {
		return s, &usageError{fmt.Sprintf("--batch-size %d: must be from 1 to %d", s.opts.BatchSize, replay.MaxBatchSize)}
	}
	if s.opts.Concurrency < 1 || s.opts.Concurrency > replay.MaxConcurrency {
		return s, &usageError{fmt.Sprintf("--concurrency %d: must be from 1 to %d", s.opts.Concurrency, replay.MaxConcurrency)}
	}
	if s.opts.Rate < 0 {
		return s, &usageError{fmt.Sprintf("--rate %v: must not be negative", s.opts.Rate)}
	}
	if s.opts.AsyncLimit < 1024 || s.opts.AsyncLimit > replay.SyncLimit {
		return s, &usageError{fmt.Sprintf("--async-limit %d: must be from 1024 to %d bytes", s.opts.AsyncLimit, replay.SyncLimit)}
	}
	if !s.opts.From.IsZero() && !s.opts.To.IsZero() && s.opts.To.Before(s.opts.From) {
		return s, &usageError{fmt.Sprintf("--to %s is before --from %s", s.to, s.from)}
	}
	return s, nil
}

func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `replay: replay events from the eventlake data lake into one function or a replay stream.

usage: replay (--bucket BUCKET | --table TABLE --from T --to T) (--function NAME | --stream ARN) [options]

`)
	for _, d := range flagDocs {
		f := fs.Lookup(d.name)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s\n      %s%s\n      e.g. %s\n", d.name, d.usage, def, d.example)
	}
	fmt.Fprintf(w, `
The target (--function or --stream) is checked before anything is read: an Invoke of type DryRun, or
DescribeStreamSummary.

%s
%s
AWS_REGION, AWS_PROFILE and AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_S3, _LAMBDA, _KINESIS) are honored.
`, summaryHelp, exitHelp)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	s, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "replay: %s\nrun replay --help for the options\n", ue.msg)
		return exitUsage
	}

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10; o.MaxBackoff = 20 * time.Second })
	}))
	if err != nil {
		fmt.Fprintf(stderr, "replay: AWS configuration: %v\n", err)
		return exitUndelivered
	}
	s.opts.Region = cfg.Region
	customEndpoint := os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = customEndpoint
		// Lake objects are written by Firehose without a checksum: skipping its validation is expected, not news.
		o.DisableLogOutputChecksumValidationSkipped = true
	})

	var target replay.Target
	where := s.function
	if s.function != "" {
		target = &replay.FunctionTarget{Client: lambda.NewFromConfig(cfg), Function: s.function, AsyncLimit: s.opts.AsyncLimit, Sync: s.opts.Sync}
	} else {
		target = &replay.StreamTarget{Client: kinesis.NewFromConfig(cfg), StreamARN: s.stream}
		where = s.stream
	}
	var cp replay.Checkpointer
	if s.cpFile != "" {
		source := fmt.Sprintf("s3://%s/%s", s.opts.Bucket, s.opts.Prefix)
		if s.table != "" {
			source = "table " + s.table
		}
		cp = &replay.FileCheckpoint{Path: s.cpFile, Run: fmt.Sprintf("%s -> %s type=%q from=%q to=%q", source, where, s.opts.Type, s.from, s.to)}
	}

	prog := newProgress(stderr)
	if prog.tty && s.table == "" {
		// The bar's total: listed alongside the run, so that the target's check is not kept waiting for it.
		after := ""
		if cp != nil {
			after, _ = cp.Load()
		}
		countCtx, stopCounting := context.WithCancel(ctx)
		defer stopCounting()
		go func() {
			if n, _, err := replay.Count(countCtx, s3c, s.opts, after); err == nil {
				prog.setTotal(n)
			}
		}()
	}
	var src replay.Source = &replay.LakeSource{S3: s3c}
	if s.table != "" {
		src = &replay.StoreSource{Reader: &eventstore.Reader{DB: dynamodb.NewFromConfig(cfg), Payloads: s3c, Table: s.table, Shards: s.shards}}
	}
	// RunSource checks the target before it reads: a function or stream that does not exist ends the run at once.
	sum, err := replay.RunSource(ctx, src, target, s.opts, cp, prog.update)
	prog.finish(sum)
	if err != nil {
		var noFunction *lambdatypes.ResourceNotFoundException
		var noStream *kinesistypes.ResourceNotFoundException
		switch {
		case errors.As(err, &noFunction):
			fmt.Fprintf(stderr, "replay: the function %s does not exist (in %s, for these credentials); nothing was read or sent\n", s.function, cfg.Region)
		case errors.As(err, &noStream):
			fmt.Fprintf(stderr, "replay: the stream %s does not exist; nothing was read or sent\n", s.stream)
		}
		fmt.Fprintf(stderr, "replay: %v\n", err)
	}
	for _, p := range sum.Problems {
		fmt.Fprintf(stderr, "replay: %s\n", p)
	}
	out, _ := json.Marshal(sum)
	fmt.Fprintf(stdout, "%s\n", out)
	switch {
	case err != nil:
		return exitUndelivered
	case !sum.Done:
		fmt.Fprintf(stderr, "replay: interrupted after %s; run again with the same --checkpoint to resume\n", orStart(sum.Checkpoint))
		return exitUndelivered
	case sum.Failed > 0 || sum.Oversized > 0:
		return exitUndelivered
	}
	return exitOK
}

func orStart(s string) string {
	if s == "" {
		return "the start (no object completed)"
	}
	return s
}
