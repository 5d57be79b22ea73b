package microstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/microstore"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// items reads the whole table.
func (e *env) items(t *testing.T) map[string]microstore.Item {
	t.Helper()
	scan, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &e.table, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var items []microstore.Item
	if err := attributevalue.UnmarshalListOfMaps(scan.Items, &items); err != nil {
		t.Fatal(err)
	}
	byID := map[string]microstore.Item{}
	for _, it := range items {
		byID[it.ID] = it
	}
	return byID
}

// TestListenerTTLIsTheRetentionAfterTheEventsTimestamp: an event may be deleted RetentionDays after its own
// timestamp (33 days when not set), to the second; an event without a timestamp counts from its arrival.
func TestListenerTTLIsTheRetentionAfterTheEventsTimestamp(t *testing.T) {
	for _, days := range []int{0, 7} {
		t.Run(fmt.Sprint("days ", days), func(t *testing.T) {
			e := newEnv(t)
			l := &microstore.Listener{DB: e.db, Table: e.table, RetentionDays: days, Logger: quiet}
			noTimestamp := rec(9, `{"id":"e9","type":"order-placed","partitionKey":"a"}`)
			noTimestamp.Kinesis.ApproximateArrivalTimestamp.Time = time.UnixMilli(1795000123456)
			late := rec(1, ev(1, "order-placed", "a")) // arrived a minute after its timestamp
			late.Kinesis.ApproximateArrivalTimestamp.Time = time.UnixMilli(1795000060001)
			in := events.KinesisEvent{Records: []events.KinesisEventRecord{late, noTimestamp}}
			if resp, _ := l.Handle(context.Background(), in); len(resp.BatchItemFailures) > 0 {
				t.Fatal(resp.BatchItemFailures)
			}
			want := days
			if days == 0 {
				want = 33 // the documented default
			}
			got := e.items(t)
			for id, ts := range map[string]int64{"e1": 1795000000001, "e9": 1795000123456} {
				it := got[id]
				if it.TS != ts || it.TTL != ts/1000+int64(want)*86400 {
					t.Errorf("%s: ts %d, ttl %d; want ts %d, ttl %d (%d days later)", id, it.TS, it.TTL, ts, ts/1000+int64(want)*86400, want)
				}
			}
		})
	}
}

// TestListenerKeysAndTypes: the hash key is the partitionKey field, or the field KeyField names (a string or a number);
// the range key orders by timestamp, then stream position; types match exactly or by glob, and a service keeping
// every type sets none.
func TestListenerKeysAndTypes(t *testing.T) {
	e := newEnv(t)
	batch := []events.KinesisEventRecord{
		rec(1, `{"id":"e1","type":"order-placed","timestamp":1795000000005,"partitionKey":"p-1","orderId":42}`),
		rec(2, `{"id":"e2","type":"order[v2]","timestamp":1795000000005,"partitionKey":"p-2","orderId":"o-7"}`),
		rec(3, `{"id":"e3","type":"payment-settled","timestamp":1795000000006,"partitionKey":"p-3","orderId":"o-8"}`),
	}
	byOrder := &microstore.Listener{DB: e.db, Table: e.table, KeyField: "orderId", Types: []string{"order-*", "order[v2]"}, Logger: quiet}
	if resp, _ := byOrder.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
		t.Fatal(resp.BatchItemFailures)
	}
	got := e.items(t)
	if len(got) != 2 || got["e1"].Key != "42" || got["e2"].Key != "o-7" {
		t.Errorf("stored %+v; want e1 under key 42 (a number) and e2 under o-7 (a type matched exactly), not e3", got)
	}
	if want := fmt.Sprintf("1795000000005#%s", eventstore.Position(batch[0].Kinesis.SequenceNumber, 0)); got["e1"].Pos != want {
		t.Errorf("pos %s, want %s", got["e1"].Pos, want)
	}
	if got["e1"].Event != `{"id":"e1","type":"order-placed","timestamp":1795000000005,"partitionKey":"p-1","orderId":42}` || got["e1"].Type != "order-placed" {
		t.Errorf("item %+v, want the event as it was sent", got["e1"])
	}

	e = newEnv(t)
	every := &microstore.Listener{DB: e.db, Table: e.table, Logger: quiet}
	if resp, _ := every.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
		t.Fatal(resp.BatchItemFailures)
	}
	got = e.items(t)
	if len(got) != 3 || got["e1"].Key != "p-1" || got["e3"].Key != "p-3" {
		t.Errorf("stored %+v; want every type, each under its partitionKey", got)
	}
}

// TestListenerReportsARecordWithoutItsKeyField names the missing field in the log.
func TestListenerReportsARecordWithoutItsKeyField(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	l := &microstore.Listener{DB: e.db, Table: e.table, KeyField: "orderId", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	batch := []events.KinesisEventRecord{rec(1, ev(1, "order-placed", "a")), rec(2, `{"id":"e2","type":"order-placed","orderId":{"n":1}}`), rec(3, ev(3, "order-placed", "b"))}
	resp, _ := l.Handle(context.Background(), events.KinesisEvent{Records: batch})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != batch[1].Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want record 2", resp.BatchItemFailures)
	}
	if lines := logLines(t, &logs); len(lines) != 1 || lines[0]["error"] != "event e2 has no orderId" {
		t.Errorf("log %s, want record 2 without orderId", logs.String())
	}
	if n := len(e.items(t)); n != 2 {
		t.Errorf("%d items stored, want the 2 others", n)
	}
}

// pagedDB passes Query on to moto and records the items of each page.
type pagedDB struct {
	db    *dynamodb.Client
	mu    sync.Mutex
	pages []int
}

func (p *pagedDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := p.db.Query(ctx, in, opts...)
	if err == nil {
		p.mu.Lock()
		p.pages = append(p.pages, len(out.Items))
		p.mu.Unlock()
	}
	return out, err
}

// TestTriggerHandlesInsertsOnlyAndStopsAtTheFirstFailure: MODIFY and REMOVE records (a TTL expiry) touch no history;
// a key whose history fails is reported by its first record and the keys after it are not handled.
func TestTriggerHandlesInsertsOnlyAndStopsAtTheFirstFailure(t *testing.T) {
	e := newEnv(t)
	l := &microstore.Listener{DB: e.db, Table: e.table, Logger: quiet}
	var batch []events.KinesisEventRecord
	for n := range 10 {
		batch = append(batch, rec(n, ev(n, "order-updated", fmt.Sprint("k", n%3))))
	}
	l.Handle(context.Background(), events.KinesisEvent{Records: batch})

	change := func(name, key, seq string) events.DynamoDBEventRecord {
		return events.DynamoDBEventRecord{EventName: name, Change: events.DynamoDBStreamRecord{SequenceNumber: seq,
			Keys: map[string]events.DynamoDBAttributeValue{microstore.AttrKey: events.NewStringAttribute(key)}}}
	}
	in := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		change("REMOVE", "k0", "100"), change("MODIFY", "k2", "101"), change("INSERT", "k1", "102"),
		change("INSERT", "k0", "103"), change("INSERT", "k1", "104"), change("INSERT", "k2", "105"),
	}}

	// GIVEN a page size of 2
	db := &pagedDB{db: e.db}
	var logs bytes.Buffer
	tr := &microstore.Trigger{DB: db, Table: e.table, PageSize: 2, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}

	// WHEN every history is handled
	var handled []string
	resp, err := tr.Handler(func(_ context.Context, key string, history []microstore.Item) error {
		handled = append(handled, fmt.Sprintf("%s:%d", key, len(history)))
		return nil
	})(context.Background(), in)

	// THEN the inserted keys are handled once each, in order of first insert, with their whole history read in pages of 2
	if err != nil || len(resp.BatchItemFailures) != 0 || strings.Join(handled, ",") != "k1:3,k0:4,k2:3" {
		t.Errorf("handled %v (failures %+v, %v); want k1:3,k0:4,k2:3", handled, resp.BatchItemFailures, err)
	}
	for i, n := range db.pages {
		if n > 2 {
			t.Errorf("page %d holds %d items, want at most 2", i, n)
		}
	}
	if len(db.pages) < 6 {
		t.Errorf("histories of 10 events read in %d pages, want at least 6 of at most 2", len(db.pages))
	}

	// WHEN the function fails for k0
	handled = nil
	resp, _ = tr.Handler(func(_ context.Context, key string, _ []microstore.Item) error {
		handled = append(handled, key)
		if key == "k0" {
			return fmt.Errorf("k0's projection is down")
		}
		return nil
	})(context.Background(), in)

	// THEN k0 is reported by its first INSERT, k2 is not handled, and the failure is logged with the key
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "103" || strings.Join(handled, ",") != "k1,k0" {
		t.Errorf("failures %+v after handling %v; want 103 (k0's first insert) after k1, k0", resp.BatchItemFailures, handled)
	}
	if lines := logLines(t, &logs); len(lines) != 1 || lines[0]["key"] != "k0" || lines[0]["error"] != "k0's projection is down" {
		t.Errorf("log %s, want k0's failure", logs.String())
	}
}

// TestTriggerReportsAHistoryThatCannotBeRead: the key's first record is reported and the function is not called.
func TestTriggerReportsAHistoryThatCannotBeRead(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	tr := &microstore.Trigger{DB: e.db, Table: e.table + "-gone", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	in := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventName: "INSERT", Change: events.DynamoDBStreamRecord{SequenceNumber: "7",
		Keys: map[string]events.DynamoDBAttributeValue{microstore.AttrKey: events.NewStringAttribute("k")}}}}}
	called := false
	resp, err := tr.Handler(func(context.Context, string, []microstore.Item) error { called = true; return nil })(context.Background(), in)
	if err != nil || called || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "7" {
		t.Errorf("failures %+v, %v, function called %v; want record 7 reported and no call", resp.BatchItemFailures, err, called)
	}
	if lines := logLines(t, &logs); len(lines) != 1 || !strings.Contains(fmt.Sprint(lines[0]["error"]), "load the history of k") ||
		!strings.Contains(fmt.Sprint(lines[0]["error"]), "ResourceNotFoundException") {
		t.Errorf("log %s, want the history of k not loaded: ResourceNotFoundException", logs.String())
	}
}

// TestListenerReportsTheFirstFailedRecord: when the first record of the batch and a later one both fail, Lambda is
// told to retry from the first.
func TestListenerReportsTheFirstFailedRecord(t *testing.T) {
	e := newEnv(t)
	l := &microstore.Listener{DB: e.db, Table: e.table, Logger: quiet}
	batch := []events.KinesisEventRecord{rec(1, `{"id":"e1","partitionKey":"a"}`), rec(2, ev(2, "order-placed", "a")), rec(3, `not json`)}
	resp, _ := l.Handle(context.Background(), events.KinesisEvent{Records: batch})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != batch[0].Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want the first record", resp.BatchItemFailures)
	}
	if n := len(e.items(t)); n != 1 {
		t.Errorf("%d items stored, want the good one", n)
	}
}

// TestListenerAgainstDynamoDBsRules writes through a client that answers as DynamoDB does where moto does not: two
// requests for one key in a BatchWriteItem are a ValidationException (moto writes both), and the first call leaves
// key b's items unprocessed (moto never does).
func TestListenerAgainstDynamoDBsRules(t *testing.T) {
	// GIVEN a listener whose DynamoDB client checks duplicate keys and leaves b's items unprocessed on the first call
	e := newEnv(t)
	cfg := moto.Config(t)
	asAWS := fault.DynamoDBAsAWS(cfg)
	throttled := fault.Unprocessed(func(call int, _ string, r types.WriteRequest) bool {
		return call == 1 && r.PutRequest.Item[microstore.AttrKey].(*types.AttributeValueMemberS).Value == "b"
	})
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, asAWS.Install, throttled.Install) })
	l := &microstore.Listener{DB: db, Table: e.table, Logger: quiet}

	// WHEN a batch holding records delivered twice is stored
	batch := []events.KinesisEventRecord{rec(1, ev(1, "order-placed", "a")), rec(2, ev(2, "order-placed", "b")), rec(1, ev(1, "order-placed", "a")),
		rec(3, ev(3, "order-paid", "b")), rec(2, ev(2, "order-placed", "b"))}
	resp, err := l.Handle(context.Background(), events.KinesisEvent{Records: batch})

	// THEN no record fails, and each is stored once: the second call writes what the first left unprocessed
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v, %v", resp.BatchItemFailures, err)
	}
	if got := e.items(t); len(got) != 3 || got["e2"].Key != "b" || got["e3"].Key != "b" {
		t.Errorf("stored %+v, want e1, e2 and e3", got)
	}
	if asAWS.Applied("BatchWriteItem") != 0 || throttled.Applied("BatchWriteItem") != 1 {
		t.Errorf("%d calls refused for duplicate keys, %d calls left items unprocessed; want 0 and 1",
			asAWS.Applied("BatchWriteItem"), throttled.Applied("BatchWriteItem"))
	}
}
