package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) {
	// The package's tests take a minute at most, even on a loaded machine. Five minutes means a replay that never
	// ends (lanes waiting for ever, say): end the binary with every goroutine's stack rather than wait for go test's
	// timeout.
	hang := time.AfterFunc(5*time.Minute, func() { panic("the replay tests have run for 5 minutes: a replay hangs") })
	code := moto.Run(m)
	hang.Stop()
	os.Exit(code)
}

// lakeFixture is a lake in moto S3 with every line form of the contract, a malformed line and an oversized event.
type lakeFixture struct {
	bucket string
	// order is the expected per-key order of event ids.
	order map[string][]string
	// ids are all events that must arrive.
	ids       []string
	malformed int
	oversized int
	objects   []string
}

func line(seq int, key, id, typ string) string {
	return fmt.Sprintf(`{"kinesisRecordMetadata":{"sequenceNumber":"%d","subsequenceNumber":0,"partitionKey":%q,"shardId":"shardId-000000000001","approximateArrivalTimestamp":%d},"event":{"id":%q,"type":%q,"timestamp":%d,"partitionKey":%q}}`,
		seq, key, 1795000000000+int64(seq), id, typ, 1795000000000+int64(seq), key)
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func newLake(t testing.TB, s3c *s3.Client) *lakeFixture {
	f := &lakeFixture{bucket: fmt.Sprintf("lake-%d", time.Now().UnixNano()), order: map[string][]string{}}
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &f.bucket}); err != nil {
		t.Fatal(err)
	}
	seq := 0
	next := func(key, typ string) string {
		seq++
		id := fmt.Sprintf("e%03d", seq)
		f.order[key] = append(f.order[key], id)
		f.ids = append(f.ids, id)
		return line(seq, key, id, typ)
	}
	keys := []string{"thing-1", "thing-2", "thing-3", "thing-4", "thing-5"}
	// Object 1, gzip: wrapped lines and a blank line.
	var a []string
	for i := range 40 {
		a = append(a, next(keys[i%5], "thing-updated"))
		if i == 10 {
			a = append(a, "")
		}
	}
	// Object 2, plain: bare events, objects concatenated on one line, a malformed line, no final newline.
	seq++
	bare := fmt.Sprintf(`{"id":"e%03d","type":"thing-created","timestamp":%d,"partitionKey":"thing-1"}`, seq, 1795000000000+int64(seq))
	f.order["thing-1"] = append(f.order["thing-1"], fmt.Sprintf("e%03d", seq))
	f.ids = append(f.ids, fmt.Sprintf("e%03d", seq))
	b := []string{bare, next("thing-2", "thing-updated") + next("thing-3", "thing-updated"), `{"kinesisRecordMetadata":{"sequenceNumber":"x"}, broken`, next("thing-4", "thing-deleted")}
	f.malformed = 1
	// Object 3, gzip, the next hour: more events and one event too large for any invocation (over 6 MB).
	var c []string
	for i := range 30 {
		c = append(c, next(keys[(i+2)%5], "thing-updated"))
	}
	c = append(c, fmt.Sprintf(`{"kinesisRecordMetadata":{"sequenceNumber":"9999","subsequenceNumber":0,"partitionKey":"thing-9","shardId":"shardId-000000000001","approximateArrivalTimestamp":1795000009999},"event":{"id":"huge","type":"thing-updated","blob":%q}}`, strings.Repeat("x", 7<<20)))
	f.oversized = 1
	c = append(c, next("thing-5", "thing-updated"))
	// Keys follow the events' arrival hour, as Firehose writes them.
	hour := time.UnixMilli(1795000000000).UTC()
	h1, h2 := hour.Format("2006/01/02/15"), hour.Add(time.Hour).Format("2006/01/02/15")
	f.objects = []string{"events/" + h1 + "/lake-1.gz", "events/" + h1 + "/lake-2", "events/" + h2 + "/lake-3.gz"}
	objects := map[string][]byte{
		f.objects[0]:                            gz(strings.Join(a, "\n") + "\n"),
		f.objects[1]:                            []byte(strings.Join(b, "\n")),
		f.objects[2]:                            gz(strings.Join(c, "\n") + "\n"),
		"errors/processing-failed/" + h1 + "/x": []byte("not under the prefix"),
	}
	for key, body := range objects {
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &f.bucket, Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// received checks that every event arrived exactly once (or at least once), in per-key order.
func (f *lakeFixture) check(t *testing.T, got []events.KinesisEventRecord, atLeastOnce bool) {
	t.Helper()
	count := map[string]int{}
	perKey := map[string][]string{}
	for _, r := range got {
		var ev struct{ ID string }
		if err := json.Unmarshal(r.Kinesis.Data, &ev); err != nil {
			t.Fatalf("received data %q: %v", r.Kinesis.Data, err)
		}
		count[ev.ID]++
		if count[ev.ID] == 1 {
			perKey[r.Kinesis.PartitionKey] = append(perKey[r.Kinesis.PartitionKey], ev.ID)
		}
		if r.EventSource != "aws:kinesis" || !strings.HasPrefix(r.EventID, "shardId-") && !strings.HasPrefix(r.EventID, ":") {
			t.Errorf("record %s is not shaped as a Kinesis record: %+v", ev.ID, r)
		}
	}
	for _, id := range f.ids {
		if n := count[id]; n == 0 || (!atLeastOnce && n != 1) {
			t.Errorf("event %s arrived %d times", id, n)
		}
	}
	if count["huge"] != 0 {
		t.Error("the oversized event was sent")
	}
	if len(count) != len(f.ids) {
		t.Errorf("%d distinct events arrived, want %d", len(count), len(f.ids))
	}
	for key, want := range f.order {
		if strings.Join(perKey[key], ",") != strings.Join(want, ",") {
			t.Errorf("%s arrived in order %v, want %v", key, perKey[key], want)
		}
	}
}

// recording wraps the moto Lambda client and keeps what the function received.
type recording struct {
	replay.LambdaAPI
	mu    sync.Mutex
	got   []events.KinesisEventRecord
	types map[string]int  // calls by invocation type, the DryRun check included
	cut   func(calls int) // called after each successful delivery
	calls int             // successful deliveries (Event and RequestResponse)
}

func (r *recording) Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	out, err := r.LambdaAPI.Invoke(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	// moto's Docker-free Lambda answers a RequestResponse with the payload it received.
	received := in.Payload
	if in.InvocationType == "RequestResponse" {
		received = out.Payload
	}
	var ev events.KinesisEvent
	if in.InvocationType != "DryRun" {
		if err := json.Unmarshal(received, &ev); err != nil {
			return out, fmt.Errorf("payload is not a KinesisEvent: %w", err)
		}
	}
	r.mu.Lock()
	r.got = append(r.got, ev.Records...)
	if r.types == nil {
		r.types = map[string]int{}
	}
	r.types[string(in.InvocationType)]++
	if in.InvocationType == "DryRun" {
		r.mu.Unlock()
		return out, nil
	}
	r.calls++
	calls := r.calls
	r.mu.Unlock()
	if r.cut != nil {
		r.cut(calls)
	}
	return out, nil
}

func setup(t *testing.T) (*lakeFixture, *s3.Client, aws.Config) {
	cfg := moto.Config(t)
	moto.LambdaWithoutDocker(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	return newLake(t, s3c), s3c, cfg
}

func TestReplayIntoAFunction(t *testing.T) {
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			f, s3c, cfg := setup(t)
			fn := moto.NewFunction(t, cfg, fmt.Sprintf("target-%d", time.Now().UnixNano()))
			rec := &recording{LambdaAPI: lambda.NewFromConfig(cfg)}
			target := &replay.FunctionTarget{Client: rec, Function: fn, Sync: sync, AsyncLimit: 16 << 10}
			sum, err := replay.Run(context.Background(), s3c, target, replay.Options{
				Bucket: f.bucket, Prefix: "events/", Concurrency: 3, BatchSize: 7, Sync: sync, AsyncLimit: 16 << 10,
				SourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/events",
			}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.check(t, rec.got, false)
			if sum.Objects != 3 || sum.Delivered != int64(len(f.ids)) || sum.Read != int64(len(f.ids))+1 || sum.WouldDeliver != 0 ||
				sum.Malformed != 1 || sum.Oversized != 1 || sum.Failed != 0 || sum.Filtered != 0 || !sum.Done {
				t.Errorf("summary %+v", sum)
			}
			if rec.types["DryRun"] != 1 {
				t.Errorf("invocation types %v: want the target checked once, before reading", rec.types)
			}
			if sum.Invocations != int64(rec.calls) || sum.Batches < int64(len(f.ids)/7) {
				t.Errorf("summary counts %d invocations and %d batches; the function got %d", sum.Invocations, sum.Batches, rec.calls)
			}
			if sync && rec.types["Event"] != 0 || !sync && rec.types["Event"] == 0 {
				t.Errorf("invocation types %v with sync=%v", rec.types, sync)
			}
			if rec.got[0].EventSourceArn != "arn:aws:kinesis:us-east-1:123456789012:stream/events" {
				t.Errorf("eventSourceARN %q", rec.got[0].EventSourceArn)
			}
			if len(sum.Problems) != 2 || !strings.Contains(strings.Join(sum.Problems, "\n"), "lake-2 line 3") {
				t.Errorf("problems %q should name the malformed line (lake-2 line 3) and the oversized event", sum.Problems)
			}
		})
	}
}

func TestReplayIntoAStream(t *testing.T) {
	f, s3c, cfg := setup(t)
	kc := kinesis.NewFromConfig(cfg)
	name := fmt.Sprintf("replay-%d", time.Now().UnixNano())
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	d, _ := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	arn := *d.StreamDescriptionSummary.StreamARN
	sum, err := replay.Run(context.Background(), s3c, &replay.StreamTarget{Client: &oneWriteAtATime{KinesisAPI: kc}, StreamARN: arn},
		replay.Options{Bucket: f.bucket, Prefix: "events/", Concurrency: 2, BatchSize: 9}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Read the replay stream back, shard by shard, in order.
	var got []events.KinesisEventRecord
	shards, _ := kc.ListShards(context.Background(), &kinesis.ListShardsInput{StreamARN: &arn})
	for _, sh := range shards.Shards {
		it, _ := kc.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: sh.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
		out, err := kc.GetRecords(context.Background(), &kinesis.GetRecordsInput{StreamARN: &arn, ShardIterator: it.ShardIterator, Limit: aws.Int32(10000)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			got = append(got, events.KinesisEventRecord{EventID: *sh.ShardId + ":" + *r.SequenceNumber, EventSource: "aws:kinesis",
				Kinesis: events.KinesisRecord{PartitionKey: *r.PartitionKey, Data: r.Data}})
		}
	}
	// A stream write is at least once: when a PutRecords answer is lost (a closed connection under load, seen in CI),
	// the SDK sends the call again and Kinesis, which has no idempotency key, stores its records again. Every event
	// must arrive, in per-key order; a retry may add copies, as the shared stream itself may.
	f.check(t, got, true)
	if sum.Delivered != int64(len(f.ids)) || sum.Read != int64(len(f.ids))+1 || sum.Oversized != 1 {
		t.Errorf("summary %+v", sum)
	}
}

// oneWriteAtATime makes the lanes' PutRecords calls one at a time. moto's Kinesis is not safe for concurrent writes
// to a shard ("this function is not safe for concurrency"): two at once may get one sequence number, and the second
// record overwrites the first, so that an event the stream accepted is never read back. Kinesis has no such race.
type oneWriteAtATime struct {
	replay.KinesisAPI
	mu sync.Mutex
}

func (o *oneWriteAtATime) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.KinesisAPI.PutRecords(ctx, in, opts...)
}

func TestKilledReplayResumesWithoutSkipping(t *testing.T) {
	f, s3c, cfg := setup(t)
	fn := moto.NewFunction(t, cfg, fmt.Sprintf("resume-%d", time.Now().UnixNano()))
	checkpoint := &replay.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp.json"), Run: "test"}
	opts := replay.Options{Bucket: f.bucket, Prefix: "events/", Concurrency: 2, BatchSize: 5, Sync: true}

	// The first run is killed after 3 invocations (15 events). The reader can be at most the lanes' buffers and one
	// batch per lane (2 x (10 + 5)) ahead of them, so it has not reached the end of the 76 events.
	ctx, kill := context.WithCancel(context.Background())
	first := &recording{LambdaAPI: lambda.NewFromConfig(cfg), cut: func(calls int) {
		if calls == 3 {
			kill()
		}
	}}
	sum1, err := replay.Run(ctx, s3c, &replay.FunctionTarget{Client: first, Function: fn, Sync: true}, opts, checkpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum1.Done {
		t.Fatalf("the killed run says it is done: %+v", sum1)
	}
	after, _ := checkpoint.Load()

	second := &recording{LambdaAPI: lambda.NewFromConfig(cfg)}
	sum2, err := replay.Run(context.Background(), s3c, &replay.FunctionTarget{Client: second, Function: fn, Sync: true}, opts, checkpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum2.Done || sum2.ResumedAfter != after {
		t.Errorf("resumed run %+v, want done and resumed after %q", sum2, after)
	}
	// Nothing skipped; events delivered twice only from objects past the checkpoint.
	f.check(t, append(append([]events.KinesisEventRecord{}, first.got...), second.got...), true)
	if after != "" && sum2.Objects >= 3 {
		t.Errorf("the resumed run read %d objects: it did not start after the checkpoint %q", sum2.Objects, after)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	f, s3c, cfg := setup(t)
	fn := moto.NewFunction(t, cfg, fmt.Sprintf("dry-%d", time.Now().UnixNano()))
	rec := &recording{LambdaAPI: lambda.NewFromConfig(cfg)}
	sum, err := replay.Run(context.Background(), s3c, &replay.FunctionTarget{Client: rec, Function: fn},
		replay.Options{Bucket: f.bucket, Prefix: "events/", DryRun: true, Type: "thing-*"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec.types["DryRun"] != 1 || len(rec.types) != 1 || rec.calls != 0 || len(rec.got) != 0 {
		t.Errorf("calls %v: want one DryRun permission check and nothing else", rec.types)
	}
	if !sum.DryRun || sum.WouldDeliver != int64(len(f.ids)) || sum.Delivered != 0 || sum.Read != int64(len(f.ids))+1 ||
		sum.Batches == 0 || sum.Invocations != 0 {
		t.Errorf("dry-run summary %+v", sum)
	}
}

func TestTypeAndTimeFilters(t *testing.T) {
	f, s3c, _ := setup(t)
	count := func(o replay.Options) replay.Summary {
		o.Bucket, o.Prefix, o.DryRun = f.bucket, "events/", true
		sum, err := replay.Run(context.Background(), s3c, &nopTarget{}, o, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	if s := count(replay.Options{Type: "thing-created"}); s.WouldDeliver != 1 || s.Filtered != int64(len(f.ids)-1)+1 { // the others and the huge one
		t.Errorf("exact type: %+v", s)
	}
	if s := count(replay.Options{Type: "thing-*ed"}); s.WouldDeliver != int64(len(f.ids)) {
		t.Errorf("glob type: %+v", s)
	}
	// Events e001..e040 arrived at 1795000000001..040 ms; keep e010..e020.
	from, to := time.UnixMilli(1795000000010), time.UnixMilli(1795000000020)
	if s := count(replay.Options{From: from, To: to}); s.WouldDeliver != 11 {
		t.Errorf("time range: %+v", s)
	}
}

type nopTarget struct{ replay.FunctionTarget }

func (nopTarget) Check(context.Context) error { return nil }
