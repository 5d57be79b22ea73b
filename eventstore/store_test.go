package eventstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

type store struct {
	db     *dynamodb.Client
	s3     *s3.Client
	table  string
	bucket string
	writer *eventstore.Writer
	reader *eventstore.Reader
}

// newStore creates the table as constructs/eventstore defines it, in moto.
func newStore(t testing.TB) *store {
	cfg := moto.Config(t)
	s := &store{db: dynamodb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true }),
		table: fmt.Sprintf("events-%d", time.Now().UnixNano()), bucket: fmt.Sprintf("payloads-%d", time.Now().UnixNano())}
	str := types.ScalarAttributeTypeS
	_, err := s.db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: &s.table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str}, {AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("tpk"), AttributeType: str}, {AttributeName: aws.String("tsk"), AttributeType: str}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String(eventstore.TimeIndex),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("tpk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("tsk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &s.bucket}); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.writer = &eventstore.Writer{DB: s.db, Table: s.table, Payloads: s.s3, Bucket: s.bucket, Logger: quiet, InlineLimit: 64 << 10}
	s.reader = &eventstore.Reader{DB: s.db, Payloads: s.s3, Table: s.table}
	return s
}

var base = time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)

// record makes the Kinesis record of event n of an entity; arrival n seconds after base.
func record(n int, entity string, extra string) events.KinesisEventRecord {
	seq := fmt.Sprintf("4959%052d", n)
	data := fmt.Sprintf(`{"id":"e%d","type":"thing-updated","timestamp":%d,"partitionKey":%q%s}`, n, base.UnixMilli()+int64(n), entity, extra)
	return events.KinesisEventRecord{EventID: "shardId-000000000001:" + seq, Kinesis: events.KinesisRecord{
		SequenceNumber: seq, PartitionKey: entity, Data: []byte(data),
		ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: base.Add(time.Duration(n) * time.Second)},
	}}
}

func (s *store) count(t *testing.T) int {
	out, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.table, Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

func TestDuplicateDeliveryIsStoredOnce(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 60 {
		batch = append(batch, record(n, fmt.Sprintf("thing-%d", n%4), ""))
	}
	// The same batch twice, and a batch with a record repeated inside it.
	for _, b := range [][]events.KinesisEventRecord{batch, batch, append([]events.KinesisEventRecord{batch[3]}, batch[3], batch[4])} {
		resp, err := s.writer.Handle(context.Background(), events.KinesisEvent{Records: b})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %+v, %v", resp.BatchItemFailures, err)
		}
	}
	if n := s.count(t); n != 60 {
		t.Errorf("%d items stored, want 60", n)
	}
}

func TestEntityAndTimeRangeReadsReturnEverythingInOrder(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 120 { // 2 hours: events 1 minute apart
		r := record(n, fmt.Sprintf("thing-%d", n%5), "")
		r.Kinesis.ApproximateArrivalTimestamp.Time = base.Add(time.Duration(n) * time.Minute)
		batch = append(batch, r)
	}
	s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch})

	// One entity, across several pages (page size 4), consistent and in stream order.
	s.reader.PageSize = 4
	var ids []string
	if err := s.reader.Entity(context.Background(), "thing-2", func(e eventstore.Event) error { ids = append(ids, e.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []string
	for n := 2; n < 120; n += 5 {
		want = append(want, fmt.Sprintf("e%d", n))
	}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("entity thing-2: %v, want %v", ids, want)
	}

	// A time range of 50 minutes across the hour boundary, read in parallel: every event once, each entity in order.
	from, to := base.Add(20*time.Minute), base.Add(70*time.Minute)
	var mu sync.Mutex
	perEntity := map[string][]int{}
	total := 0
	err := s.reader.TimeRange(context.Background(), from, to, 4, func(e eventstore.Event) error {
		var n int
		fmt.Sscanf(e.ID, "e%d", &n)
		mu.Lock()
		perEntity[e.PartitionKey] = append(perEntity[e.PartitionKey], n)
		total++
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 51 {
		t.Errorf("time range returned %d events, want 51 (minutes 20 to 70)", total)
	}
	for entity, ns := range perEntity {
		for i := 1; i < len(ns); i++ {
			if ns[i] <= ns[i-1] {
				t.Errorf("%s out of order: %v", entity, ns)
				break
			}
		}
	}
}

func TestOversizedEventIsStoredByReference(t *testing.T) {
	s := newStore(t)
	big := record(1, "thing-1", `,"blob":"`+strings.Repeat("b", 500<<10)+`"`)
	resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record(0, "thing-1", ""), big, record(2, "thing-1", "")}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	var got []eventstore.Event
	s.reader.Entity(context.Background(), "thing-1", func(e eventstore.Event) error { got = append(got, e); return nil })
	if len(got) != 3 || string(got[1].Data) != string(big.Kinesis.Data) {
		t.Fatalf("read %d events; the big one has %d bytes, want %d", len(got), len(got[1].Data), len(big.Kinesis.Data))
	}
	objs, _ := s.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &s.bucket})
	if len(objs.Contents) != 1 || !strings.HasPrefix(*objs.Contents[0].Key, "payloads/") {
		t.Errorf("payload bucket holds %d objects, want the one payload", len(objs.Contents))
	}
}

func TestARecordThatIsNotAnEventIsReportedAndTheRestStored(t *testing.T) {
	s := newStore(t)
	bad := record(5, "thing-1", "")
	bad.Kinesis.Data = []byte("not json")
	batch := []events.KinesisEventRecord{record(1, "thing-1", ""), record(2, "thing-2", ""), bad, record(7, "thing-3", "")}
	resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != bad.Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want the bad record", resp.BatchItemFailures)
	}
	if n := s.count(t); n != 3 {
		t.Errorf("%d items stored, want the 3 good ones", n)
	}
}

// TestBurstSpreads writes 1,000 events with the same arrival time: they spread over every write shard of the hour.
func TestBurstSpreads(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 1000 {
		r := record(n, fmt.Sprintf("order-%d", n), "")
		r.Kinesis.ApproximateArrivalTimestamp.Time = base
		batch = append(batch, r)
	}
	s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch})
	out, err := s.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &s.table, ProjectionExpression: aws.String("pk, tpk")})
	if err != nil {
		t.Fatal(err)
	}
	pks, tpks := map[string]bool{}, map[string]bool{}
	for _, it := range out.Items {
		pks[it["pk"].(*types.AttributeValueMemberS).Value] = true
		tpks[it["tpk"].(*types.AttributeValueMemberS).Value] = true
	}
	if len(pks) != 1000 || len(tpks) != eventstore.DefaultShards {
		t.Errorf("a burst of 1,000 used %d table partition keys and %d index partition keys; want 1,000 and %d", len(pks), len(tpks), eventstore.DefaultShards)
	}
}

func TestReplayFromTheEventStore(t *testing.T) {
	s := newStore(t)
	var batch []events.KinesisEventRecord
	for n := range 90 { // 90 minutes, 6 entities
		r := record(n, fmt.Sprintf("thing-%d", n%6), "")
		r.Kinesis.ApproximateArrivalTimestamp.Time = base.Add(time.Duration(n) * time.Minute)
		batch = append(batch, r)
	}
	s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch})

	target := &collect{}
	sum, err := replay.RunSource(context.Background(), &replay.StoreSource{Reader: s.reader}, target,
		replay.Options{From: base.Add(10 * time.Minute), To: base.Add(80 * time.Minute), Concurrency: 3}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered != 71 || len(target.got) != 71 {
		t.Fatalf("replayed %d events (%+v), want 71 (minutes 10 to 80)", len(target.got), sum)
	}
	last := map[string]string{}
	for _, r := range target.got {
		if prev, ok := last[r.Kinesis.PartitionKey]; ok && r.Kinesis.SequenceNumber <= prev {
			t.Errorf("%s out of order: %s after %s", r.Kinesis.PartitionKey, r.Kinesis.SequenceNumber, prev)
		}
		last[r.Kinesis.PartitionKey] = r.Kinesis.SequenceNumber
		if r.EventID != "shardId-000000000001:"+r.Kinesis.SequenceNumber {
			t.Errorf("event id %s", r.EventID)
		}
	}
}

// collect is a function target that keeps what it is sent, in order per lane.
type collect struct {
	replay.FunctionTarget
	mu  sync.Mutex
	got []events.KinesisEventRecord
}

func (c *collect) Send(_ context.Context, b *replay.Batch) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range b.Records {
		c.got = append(c.got, r.Kinesis)
	}
	return 1, nil
}

// Check accepts: the collector can always be delivered to (the embedded FunctionTarget has no client).
func (c *collect) Check(context.Context) error { return nil }
