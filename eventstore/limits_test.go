package eventstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
)

// observed passes every Query on to moto and records what the reader asked and got: the Limit of each call, the
// items of each page, and the most calls in flight at once.
type observed struct {
	db *dynamodb.Client

	mu       sync.Mutex
	limits   []*int32
	pages    []int
	inFlight atomic.Int32
	most     atomic.Int32
}

func (o *observed) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	n := o.inFlight.Add(1)
	defer o.inFlight.Add(-1)
	for {
		if m := o.most.Load(); n <= m || o.most.CompareAndSwap(m, n) {
			break
		}
	}
	out, err := o.db.Query(ctx, in, opts...)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.limits = append(o.limits, in.Limit)
	if err == nil {
		o.pages = append(o.pages, len(out.Items))
	}
	return out, err
}

// TestReaderPageSize: PageSize 0 sends no Limit (DynamoDB rejects a Limit of 0; moto takes it as no limit), and a
// PageSize reads an entity in pages of at most that many items.
func TestReaderPageSize(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 10 {
		batch = append(batch, record(n, "thing-1", ""))
	}
	if resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
		t.Fatal(resp.BatchItemFailures)
	}
	read := func(pageSize int32) (*observed, int) {
		t.Helper()
		o := &observed{db: s.db}
		r := &eventstore.Reader{DB: o, Payloads: s.s3, Table: s.table, PageSize: pageSize}
		n := 0
		if err := r.Entity(context.Background(), "thing-1", func(eventstore.Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return o, n
	}

	// GIVEN no page size: one call, without a Limit
	o, n := read(0)
	if n != 10 || len(o.limits) != 1 || o.limits[0] != nil {
		t.Errorf("page size 0: %d events in %d calls (limits %v); want 10 in 1 call without a Limit", n, len(o.limits), o.limits)
	}

	// GIVEN a page size of 4: pages of 4, 4 and 2, every call with Limit 4
	o, n = read(4)
	if n != 10 || len(o.pages) < 3 || o.pages[0] != 4 || o.pages[1] != 4 || o.pages[2] != 2 {
		t.Errorf("page size 4: %d events in pages %v; want 10 in pages of 4, 4, 2", n, o.pages)
	}
	for i, l := range o.limits {
		if aws.ToInt32(l) != 4 {
			t.Errorf("call %d: Limit %v, want 4", i, l)
		}
	}
}

// TestTimeRangeParallelOneReadsOneShardAtATime: with parallel 1 the write shards of an hour are read one after the
// other (fn is never called from two goroutines at once); with parallel 4, never more than 4 at once.
func TestTimeRangeParallelOneReadsOneShardAtATime(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 64 { // 64 entities: events in every write shard
		batch = append(batch, record(n, fmt.Sprintf("order-%d", n), ""))
	}
	if resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
		t.Fatal(resp.BatchItemFailures)
	}
	for _, parallel := range []int{1, 4} {
		o := &observed{db: s.db}
		r := &eventstore.Reader{DB: o, Payloads: s.s3, Table: s.table}
		var calls, concurrent, most atomic.Int32
		err := r.TimeRange(context.Background(), base, base.Add(time.Minute), parallel, func(eventstore.Event) error {
			calls.Add(1)
			if n := concurrent.Add(1); n > most.Load() {
				most.Store(n)
			}
			concurrent.Add(-1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls.Load() != 61 || len(o.limits) != eventstore.DefaultShards {
			t.Errorf("parallel %d: %d events in %d queries, want 61 (seconds 0 to 60) in %d", parallel, calls.Load(), len(o.limits), eventstore.DefaultShards)
		}
		if got := o.most.Load(); got > int32(parallel) || most.Load() > int32(parallel) {
			t.Errorf("parallel %d: %d queries and %d calls of fn at once", parallel, got, most.Load())
		}
	}
}

// stored reads the item of a record back from the table.
func (s *store) stored(t *testing.T, rec events.KinesisEventRecord) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: rec.Kinesis.PartitionKey}, "sk": &types.AttributeValueMemberS{Value: eventstore.Position(rec.Kinesis.SequenceNumber, 0)}}})
	if err != nil || out.Item == nil {
		t.Fatalf("item of record %s not found (%v)", rec.Kinesis.SequenceNumber, err)
	}
	return out.Item
}

// sized is the record of event n of entity, padded to exactly size bytes of compact JSON.
func sized(n int, entity string, size int) events.KinesisEventRecord {
	r := record(n, entity, `,"pad":""`)
	pad := size - len(r.Kinesis.Data)
	return record(n, entity, `,"pad":"`+strings.Repeat("p", pad)+`"`)
}

// TestInlineLimitBoundary: an event of exactly the inline limit stays in its item; one byte more goes to S3, the item
// holding its reference and size. Without InlineLimit set, the limit is DefaultInlineLimit (350 KB).
func TestInlineLimitBoundary(t *testing.T) {
	for _, limit := range []int{0, 1000} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			s := newStore(t)
			s.writer.InlineLimit = limit
			want := limit
			if limit == 0 {
				want = 350 << 10 // the documented default: DynamoDB's 400 KB less room for the other attributes
			}
			at, over := sized(1, "thing-1", want), sized(2, "thing-1", want+1)
			if len(at.Kinesis.Data) != want || len(over.Kinesis.Data) != want+1 {
				t.Fatalf("events of %d and %d bytes, want %d and %d", len(at.Kinesis.Data), len(over.Kinesis.Data), want, want+1)
			}
			if resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{at, over}}); len(resp.BatchItemFailures) > 0 {
				t.Fatal(resp.BatchItemFailures)
			}

			inline := s.stored(t, at)
			if ev, ok := inline["event"].(*types.AttributeValueMemberS); !ok || ev.Value != string(at.Kinesis.Data) || inline["payloadRef"] != nil {
				t.Errorf("event of %d bytes (the limit): payloadRef %v, want it stored in its item", want, inline["payloadRef"])
			}
			ref := s.stored(t, over)
			refS, _ := ref["payloadRef"].(*types.AttributeValueMemberS)
			if ref["event"] != nil || refS == nil || !strings.HasPrefix(refS.Value, "s3://"+s.bucket+"/payloads/") ||
				!strings.HasSuffix(refS.Value, "/"+eventstore.Position(over.Kinesis.SequenceNumber, 0)+".json") {
				t.Errorf("event of %d bytes (1 over the limit): payloadRef %v, want s3://%s/payloads/…/<position>.json and no event", want+1, ref["payloadRef"], s.bucket)
			}
			if size, _ := ref["size"].(*types.AttributeValueMemberN); size == nil || size.Value != fmt.Sprint(want+1) {
				t.Errorf("size %v, want %d", ref["size"], want+1)
			}

			// Both read back whole, in order.
			var got []eventstore.Event
			if err := s.reader.Entity(context.Background(), "thing-1", func(e eventstore.Event) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || string(got[0].Data) != string(at.Kinesis.Data) || string(got[1].Data) != string(over.Kinesis.Data) {
				t.Errorf("read back %d events, want the two whole", len(got))
			}
		})
	}
}

// TestOversizedEventWithoutBucketIsReported: an event over the limit with no payload bucket is reported with the
// sizes, and the rest of the batch is stored.
func TestOversizedEventWithoutBucketIsReported(t *testing.T) {
	s := newStore(t)
	s.writer.InlineLimit = 1000
	s.writer.Bucket = ""
	over := sized(2, "thing-1", 1001)
	first, err := s.writer.Write(context.Background(), []events.KinesisEventRecord{record(1, "thing-1", ""), over, record(3, "thing-1", "")})
	if first != 1 || err == nil || err.Error() != "event of 1001 bytes is over the 1000-byte item limit and no payload bucket is set" {
		t.Errorf("Write: %d, %v; want record 1 over the 1000-byte limit", first, err)
	}
	if n := s.count(t); n != 2 {
		t.Errorf("%d items stored, want the 2 others", n)
	}
}
