package replay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

// batches is a function target that keeps every batch it is sent and fails those holding a record whose partition
// key starts with failKey (when set).
type batches struct {
	replay.FunctionTarget
	failKey string
	mu      sync.Mutex
	sizes   []int
}

func (b *batches) Check(context.Context) error { return nil }

func (b *batches) Send(_ context.Context, batch *replay.Batch) (int, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(batch.Records))
	b.mu.Unlock()
	for _, r := range batch.Records {
		if b.failKey != "" && strings.HasPrefix(r.Kinesis.Kinesis.PartitionKey, b.failKey) {
			return 1, errors.New("the function failed")
		}
	}
	return 1, nil
}

// lakeOf puts one lake object per key prefix in objects (in order, an hour apart), each of n events over 3 keys of
// that prefix, and returns the bucket and the objects' keys.
func lakeOf(t *testing.T, s3c *s3.Client, n int, prefixes ...string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	bucket := fmt.Sprintf("limits-%d", time.Now().UnixNano())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	seq := 0
	for h, p := range prefixes {
		var lines bytes.Buffer
		for range n {
			seq++
			lines.WriteString(line(seq, fmt.Sprintf("%s-%d", p, seq%3), fmt.Sprintf("%s-e%d", p, seq), "t") + "\n")
		}
		key := fmt.Sprintf("events/2026/11/21/%02d/lake-%d", h, h)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(lines.Bytes())}); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	return bucket, keys
}

func TestBatchesHoldAtMostBatchSizeRecords(t *testing.T) {
	// GIVEN 50 events in one lane (one lane keeps the batches full: events are not spread over lanes)
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket, _ := lakeOf(t, s3c, 50, "k")
	for _, size := range []int{1, 7, 50} {
		// WHEN they are replayed with a batch size
		target := &batches{}
		sum, err := replay.Run(context.Background(), s3c, target, replay.Options{Bucket: bucket, Prefix: "events/", BatchSize: size, Concurrency: 1}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// THEN every batch is full but the last, and none holds more
		want := []int{}
		for left := 50; left > 0; left -= size {
			want = append(want, min(size, left))
		}
		if fmt.Sprint(target.sizes) != fmt.Sprint(want) || sum.Delivered != 50 {
			t.Errorf("batch size %d: batches of %v (%d delivered), want %v", size, target.sizes, sum.Delivered, want)
		}
	}
}

func TestDefaultsUsersGetWithoutSettingAnything(t *testing.T) {
	// The asynchronous payload limit is Lambda's 1 MiB (256 KB until 2025), and synchronous is 6 MB.
	if got := (&replay.FunctionTarget{}).PackLimit(); got != 1<<20 {
		t.Errorf("default Event payload limit %d, want 1 MiB (%d)", got, 1<<20)
	}
	if got := (&replay.FunctionTarget{Sync: true}).PackLimit(); got != 6<<20 {
		t.Errorf("Sync payload limit %d, want 6 MiB", got)
	}
	if got := (&replay.FunctionTarget{AsyncLimit: 4096}).PackLimit(); got != 4096 {
		t.Errorf("a set AsyncLimit gave %d", got)
	}
	if got := (&replay.FunctionTarget{}).AloneLimit(); got != 6<<20 {
		t.Errorf("one record alone may be %d bytes, want 6 MiB", got)
	}
	if got := (&replay.FunctionTarget{}).MaxRecords(); got != 10000 {
		t.Errorf("at most %d records per invocation, want Kinesis's 10,000", got)
	}
	if replay.DefaultBatchSize != 100 || replay.DefaultConcurrency != 4 || replay.MaxBatchSize != 10000 || replay.MaxConcurrency != 64 {
		t.Errorf("defaults changed: batch %d (max %d), concurrency %d (max %d)", replay.DefaultBatchSize, replay.MaxBatchSize, replay.DefaultConcurrency, replay.MaxConcurrency)
	}

	// Options left zero replay with those defaults: 250 events in batches of 100 over the default lanes.
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket, _ := lakeOf(t, s3c, 250, "k")
	target := &batches{}
	sum, err := replay.Run(context.Background(), s3c, target, replay.Options{Bucket: bucket, Prefix: "events/"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	biggest := 0
	for _, n := range target.sizes {
		biggest = max(biggest, n)
	}
	if sum.Delivered != 250 || biggest > 100 || len(target.sizes) < 3 {
		t.Errorf("default batches %v (%d delivered), want none over 100", target.sizes, sum.Delivered)
	}
}

func TestCheckpointStopsBeforeAnObjectWithFailedEvents(t *testing.T) {
	// GIVEN three lake objects, the middle one's events refused by the target
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	bucket, keys := lakeOf(t, s3c, 10, "ok", "bad", "late")
	for _, past := range []bool{false, true} {
		t.Run(fmt.Sprintf("AdvancePastFailures=%v", past), func(t *testing.T) {
			cp := &replay.FileCheckpoint{Path: filepath.Join(t.TempDir(), "cp.json"), Run: "test"}

			// WHEN they are replayed
			sum, err := replay.Run(context.Background(), s3c, &batches{failKey: "bad"}, replay.Options{
				Bucket: bucket, Prefix: "events/", BatchSize: 5, Concurrency: 1, AdvancePastFailures: past}, cp, nil)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := cp.Load()
			if err != nil {
				t.Fatal(err)
			}

			// THEN the checkpoint stays before the failed object, so a resumed run retries it; unless told to advance
			want := keys[0]
			if past {
				want = keys[2]
			}
			if saved != want || sum.Checkpoint != want || sum.Failed != 10 || sum.Delivered != 20 {
				t.Errorf("checkpoint %q (summary %q), %d failed, %d delivered; want %q, 10 and 20", saved, sum.Checkpoint, sum.Failed, sum.Delivered, want)
			}
		})
	}
}
