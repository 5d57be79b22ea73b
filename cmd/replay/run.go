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
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/replay"
)

// Exit statuses.
const (
	exitOK          = 0
	exitUndelivered = 1
	exitUsage       = 2
)

type flagHelp struct{ name, usage, example string }

var flagDocs = []flagHelp{
	{"bucket", "the data lake bucket (this, or --table)", "--bucket eventlake-lake-bucket"},
	{"table", "replay from the event store table instead of the lake; needs --from and --to", "--table eventlake-events"},
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
}

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
The last line on stdout is a JSON summary. Exit status: 0 all delivered, 1 some event not delivered or the run
interrupted (resume with the same --checkpoint), 2 wrong usage. AWS_REGION, AWS_PROFILE and AWS_ENDPOINT_URL (and
AWS_ENDPOINT_URL_S3, _LAMBDA, _KINESIS) are honored.
`)
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
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = customEndpoint })

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
		after := ""
		if cp != nil {
			after, _ = cp.Load()
		}
		if n, _, err := replay.Count(ctx, s3c, s.opts, after); err == nil {
			prog.total = n
		}
	}
	var src replay.Source = &replay.LakeSource{S3: s3c}
	if s.table != "" {
		src = &replay.StoreSource{Reader: &eventstore.Reader{DB: dynamodb.NewFromConfig(cfg), Payloads: s3c, Table: s.table}}
		prog.total = 0
	}
	sum, err := replay.RunSource(ctx, src, target, s.opts, cp, prog.update)
	prog.finish(sum)
	if err != nil {
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
