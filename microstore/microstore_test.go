package microstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/eventlake/eventlake/microstore"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	db      *dynamodb.Client
	streams *dynamodbstreams.Client
	table   string
	stream  string
}

// newEnv creates a micro event store table as constructs/microstore defines it: key, pos, stream of new images.
func newEnv(t *testing.T) *env {
	cfg := moto.Config(t)
	e := &env{db: dynamodb.NewFromConfig(cfg), streams: dynamodbstreams.NewFromConfig(cfg), table: fmt.Sprintf("orders-store-%d", time.Now().UnixNano())}
	out, err := e.db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: &e.table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("key"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("pos"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("key"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("pos"), KeyType: types.KeyTypeRange}},
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.stream = *out.TableDescription.LatestStreamArn
	return e
}

func rec(n int, data string) events.KinesisEventRecord {
	seq := fmt.Sprintf("4959%052d", n)
	return events.KinesisEventRecord{EventID: "shardId-000000000000:" + seq, Kinesis: events.KinesisRecord{SequenceNumber: seq, PartitionKey: "p", Data: []byte(data),
		ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.UnixMilli(1795000000000 + int64(n))}}}
}

func ev(n int, typ, key string) string {
	return fmt.Sprintf(`{"id":"e%d","type":%q,"timestamp":%d,"partitionKey":%q,"orderId":"o-%s"}`, n, typ, 1795000000000+int64(n), key, key)
}

func TestListenerFiltersAndIsolatesFailures(t *testing.T) {
	e := newEnv(t)
	l := &microstore.Listener{DB: e.db, Table: e.table, Types: []string{"order-*", "payment-settled"}, Logger: quiet}
	batch := []events.KinesisEventRecord{
		rec(1, ev(1, "order-placed", "a")),
		rec(2, ev(2, "user-signed-up", "a")),                  // not a type the service keeps
		rec(3, `{"type":"order-shipped","partitionKey":"a"}`), // no id: reported
		rec(4, ev(4, "payment-settled", "b")),
		rec(5, `{"id":"e5","partitionKey":"a"}`), // no type: reported
		rec(6, ev(6, "order-cancelled", "b")),
	}
	resp, _ := l.Handle(context.Background(), events.KinesisEvent{Records: batch})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != batch[2].Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want the first bad record (3)", resp.BatchItemFailures)
	}
	scan, _ := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &e.table})
	var ids []string
	for _, it := range scan.Items {
		ids = append(ids, it["id"].(*types.AttributeValueMemberS).Value)
		ttl := it["ttl"].(*types.AttributeValueMemberN).Value
		if !strings.HasPrefix(ttl, "1797") { // timestamp + 33 days, in seconds
			t.Errorf("ttl %s", ttl)
		}
	}
	if len(ids) != 3 {
		t.Errorf("stored %v, want e1, e4, e6 (the rest of the batch stored despite the bad records)", ids)
	}
}

func TestTriggerSeesTheWholeOrderedHistory(t *testing.T) {
	e := newEnv(t)
	// The service correlates by orderId, not by partition key.
	l := &microstore.Listener{DB: e.db, Table: e.table, KeyField: "orderId", Logger: quiet}
	var batch []events.KinesisEventRecord
	for n := range 30 {
		key := "x"
		if n%3 == 0 {
			key = "y"
		}
		batch = append(batch, rec(n, ev(n, "order-updated", key)))
	}
	l.Handle(context.Background(), events.KinesisEvent{Records: batch})

	// Read the table's stream (moto) and hand its INSERTs to the trigger, as Lambda would.
	in := streamEvent(t, e)
	if len(in.Records) != 30 {
		t.Fatalf("the table's stream has %d records, want 30 INSERTs", len(in.Records))
	}
	tr := &microstore.Trigger{DB: e.db, Table: e.table, PageSize: 4, Logger: quiet}
	calls := map[string][]string{}
	resp, err := tr.Handler(func(_ context.Context, key string, history []microstore.Item) error {
		if _, again := calls[key]; again {
			t.Errorf("key %s handled twice in one batch", key)
		}
		for _, it := range history {
			calls[key] = append(calls[key], it.ID)
		}
		return nil
	})(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatal(err, resp)
	}
	var wantX, wantY []string
	for n := range 30 {
		if n%3 == 0 {
			wantY = append(wantY, fmt.Sprintf("e%d", n))
		} else {
			wantX = append(wantX, fmt.Sprintf("e%d", n))
		}
	}
	if strings.Join(calls["o-x"], ",") != strings.Join(wantX, ",") || strings.Join(calls["o-y"], ",") != strings.Join(wantY, ",") {
		t.Errorf("histories %v, want o-x %v and o-y %v (20 events over 5 pages of 4)", calls, wantX, wantY)
	}

	// A failing service function: the key's first record is reported.
	resp, _ = tr.Handler(func(context.Context, string, []microstore.Item) error { return fmt.Errorf("down") })(context.Background(), in)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != in.Records[0].Change.SequenceNumber {
		t.Errorf("failures %+v", resp.BatchItemFailures)
	}
}

func streamEvent(t *testing.T, e *env) events.DynamoDBEvent {
	ctx := context.Background()
	desc, err := e.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &e.stream})
	if err != nil {
		t.Fatal(err)
	}
	var out events.DynamoDBEvent
	for _, sh := range desc.StreamDescription.Shards {
		it, err := e.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: &e.stream, ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			key := r.Dynamodb.Keys["key"].(*streamtypes.AttributeValueMemberS).Value
			out.Records = append(out.Records, events.DynamoDBEventRecord{EventName: string(r.EventName), Change: events.DynamoDBStreamRecord{
				SequenceNumber: *r.Dynamodb.SequenceNumber, Keys: map[string]events.DynamoDBAttributeValue{"key": events.NewStringAttribute(key)},
			}})
		}
	}
	return out
}
