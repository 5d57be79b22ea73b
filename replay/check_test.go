package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
)

// watchedLake is an in-memory lake that counts the calls made to it.
type watchedLake struct {
	*memLake
	lists, gets atomic.Int64
}

func (w *watchedLake) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, o ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	w.lists.Add(1)
	return w.memLake.ListObjectsV2(ctx, in, o...)
}

func (w *watchedLake) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	w.gets.Add(1)
	return w.memLake.GetObject(ctx, in, o...)
}

func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	out, _ := io.ReadAll(zr)
	return out
}

// smallLake holds 310 events (seq 0 to 309, arrived at 1795000000000 + seq ms) in four objects, the last one plain
// text with two malformed lines.
func smallLake() *watchedLake {
	m := &memLake{objects: map[string][]byte{}}
	for i := range 3 {
		m.objects[fmt.Sprintf("events/2026/11/21/%02d/o", i)] = lakeObject(100, 200, i*100)
	}
	m.objects["events/2026/11/21/03/p"] = []byte("not an event\n" + strings.TrimSpace(string(gunzip(lakeObject(10, 200, 300)))) + "\n{broken\n")
	return &watchedLake{memLake: m}
}

// missingFunction is a function target whose function does not exist: Lambda answers ResourceNotFoundException to
// every call, the DryRun check included.
type missingFunction struct {
	replay.FunctionTarget
	sends atomic.Int64
}

func (m *missingFunction) Check(context.Context) error {
	return fmt.Errorf("function orders-projector: %w", &lambdatypes.ResourceNotFoundException{Message: aws.String("Function not found")})
}

func (m *missingFunction) Send(context.Context, *replay.Batch) (int, error) {
	m.sends.Add(1)
	return 1, &lambdatypes.ResourceNotFoundException{Message: aws.String("Function not found")}
}

func TestTargetIsCheckedBeforeAnythingIsRead(t *testing.T) {
	for _, dry := range []bool{false, true} {
		lake, target := smallLake(), &missingFunction{}
		sum, err := replay.Run(context.Background(), lake, target, replay.Options{Bucket: "lake", Prefix: "events/", DryRun: dry}, nil, nil)
		var nf *lambdatypes.ResourceNotFoundException
		if !errors.As(err, &nf) || !strings.Contains(err.Error(), "orders-projector") || !strings.Contains(err.Error(), "nothing was read") {
			t.Errorf("dry run %v: error %v; want the check's ResourceNotFoundException, naming the function", dry, err)
		}
		if lake.lists.Load() != 0 || lake.gets.Load() != 0 || target.sends.Load() != 0 {
			t.Errorf("dry run %v: %d lists, %d reads and %d sends after a failed check; want none", dry, lake.lists.Load(), lake.gets.Load(), target.sends.Load())
		}
		if sum.Objects != 0 || sum.Read != 0 || sum.Done {
			t.Errorf("dry run %v: summary %+v", dry, sum)
		}
	}
}

// flaky fails every batch that holds an event of entity-7.
type flaky struct {
	replay.FunctionTarget
	sent, failed atomic.Int64
}

func (f *flaky) Check(context.Context) error { return nil }

func (f *flaky) Send(_ context.Context, b *replay.Batch) (int, error) {
	for _, r := range b.Records {
		if r.Kinesis.Kinesis.PartitionKey == "entity-7" {
			f.failed.Add(int64(len(b.Records)))
			return 1, errors.New("boom")
		}
	}
	f.sent.Add(int64(len(b.Records)))
	return 1, nil
}

func TestSummaryCountsAddUp(t *testing.T) {
	// 310 events, of which the time filter leaves out the first 50, and 2 malformed lines.
	opts := replay.Options{Bucket: "lake", Prefix: "events/", BatchSize: 10, From: time.UnixMilli(1795000000050)}
	target := &flaky{}
	sum, err := replay.Run(context.Background(), smallLake(), target, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects != 4 || sum.Read != 310 || sum.Filtered != 50 || sum.Malformed != 2 || sum.DryRun || !sum.Done {
		t.Errorf("summary %+v", sum)
	}
	if sum.Delivered != target.sent.Load() || sum.Failed != target.failed.Load() || sum.Failed == 0 || sum.WouldDeliver != 0 {
		t.Errorf("summary says %d delivered and %d failed; the target took %d and failed %d", sum.Delivered, sum.Failed, target.sent.Load(), target.failed.Load())
	}
	if sum.Read != sum.Filtered+sum.Oversized+sum.Delivered+sum.Failed {
		t.Errorf("read %d != filtered + oversized + delivered + failed: %+v", sum.Read, sum)
	}
	if sum.Invocations != sum.Batches || sum.Bytes == 0 {
		t.Errorf("summary %+v", sum)
	}

	opts.DryRun = true
	dry, err := replay.Run(context.Background(), smallLake(), &flaky{}, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || dry.Read != 310 || dry.WouldDeliver != 260 || dry.Delivered != 0 || dry.Failed != 0 || dry.Invocations != 0 ||
		dry.Batches != sum.Batches || dry.Bytes != sum.Bytes {
		t.Errorf("dry-run summary %+v; the run that sent: %+v", dry, sum)
	}
}
