package observer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/test/fault"
)

// item reads an item of the counter table by its key; nil when there is none.
func (e *env) item(t *testing.T, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{observer.AttrDataSet: &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func number(av types.AttributeValue) string {
	if n, ok := av.(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return fmt.Sprintf("%v", av)
}

func TestObjectIdentity(t *testing.T) {
	for _, c := range []struct {
		o    observer.Object
		want string
	}{
		{observer.Object{VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Sequencer: "0A1B", ETag: `"abc"`}, "v.3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY"},
		{observer.Object{VersionID: "null", Sequencer: "0A1B", ETag: `"abc"`}, "s.0A1B"}, // a bucket without versioning says "null"
		{observer.Object{Sequencer: "0A 1B"}, "s.0A+1B"},
		{observer.Object{ETag: `"d41d8cd98f00b204e9800998ecf8427e"`}, "e.d41d8cd98f00b204e9800998ecf8427e"},
		{observer.Object{}, "-"},
	} {
		if got := c.o.Identity(); got != c.want {
			t.Errorf("%+v: identity %q, want %q", c.o, got, c.want)
		}
	}
}

func TestMarkersAreRememberedForTheirTimeToLive(t *testing.T) {
	for _, c := range []struct {
		remember, want time.Duration
	}{
		{0, 24*time.Hour + 14*24*time.Hour}, // MaxWait's default and 14 days of redrive
		{2 * time.Hour, 2 * time.Hour},
	} {
		t.Run(c.remember.String(), func(t *testing.T) {
			// GIVEN a monitor that remembers objects for Remember (unset: the default)
			e := newEnv(t, observer.Constant, 3)
			e.mon.Remember = c.remember
			start := e.clock

			// WHEN an object is counted, then overwritten an hour later
			e.deliver(t, obj{"a.gz", "v1"}.eb())
			write, key := e.item(t, "#write v.v1 lake/events/2026/11/21/09/a.gz"), e.item(t, "#object lake/events/2026/11/21/09/a.gz")
			e.clock = e.clock.Add(time.Hour)
			e.deliver(t, obj{"a.gz", "v2"}.eb())

			// THEN its markers expire after Remember from when they were written (the key marker from the overwrite),
			// and the counter never does
			want := fmt.Sprint(start.Add(c.want).Unix())
			if write == nil || key == nil || number(write[observer.AttrExpiresAt]) != want || number(key[observer.AttrExpiresAt]) != want {
				t.Fatalf("markers %v and %v; want both to expire at %s", write, key, want)
			}
			if key = e.item(t, "#object lake/events/2026/11/21/09/a.gz"); number(key[observer.AttrExpiresAt]) != fmt.Sprint(start.Add(time.Hour+c.want).Unix()) {
				t.Errorf("the key marker after an overwrite: %v; want it to expire %v after the overwrite", key, c.want)
			}
			if second := e.item(t, "#write v.v2 lake/events/2026/11/21/09/a.gz"); number(second[observer.AttrExpiresAt]) != fmt.Sprint(start.Add(time.Hour+c.want).Unix()) {
				t.Errorf("the second write's marker: %v", second)
			}
			if counter := e.item(t, hour9); counter[observer.AttrExpiresAt] != nil || number(counter["objects"]) != "1" || number(counter["overwrites"]) != "1" {
				t.Errorf("counter %v; want 1 object, 1 overwrite, and no time to live", counter)
			}
		})
	}
}

func TestAnObjectKeyIsDecodedAsS3EncodesItInNotifications(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	ev := created("ObjectCreated:Put", "ObjectCreated:Put")
	ev.Records[0].S3.Object.Key = "events/2026/11/21/09/big+file%282%29.gz" // "big file(2).gz"
	ev.Records[1].S3.Object.Key = "events/2026/11/21/09/odd%zz.gz"          // not an escape: kept as it is
	if err := e.mon.HandleS3(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"#object lake/events/2026/11/21/09/big file(2).gz", "#object lake/events/2026/11/21/09/odd%zz.gz"} {
		if e.item(t, k) == nil {
			t.Errorf("no marker %q", k)
		}
	}
}

func TestAWatchOfDepthMakesADataSetOfTheFirstSegments(t *testing.T) {
	// GIVEN a watch of the days of a lake (depth 3 under events/)
	e := newEnv(t, observer.Constant, 3)
	e.mon.Watches = []observer.Watch{{Bucket: "lake", Prefix: "events/", Depth: 3}}
	ev := created("ObjectCreated:Put", "ObjectCreated:Put", "ObjectCreated:Put", "ObjectCreated:Put")
	ev.Records[0].S3.Object.Key = "events/2026/11/21/09/a.gz"
	ev.Records[1].S3.Object.Key = "events/2026/11/21/10/b.gz"
	ev.Records[2].S3.Object.Key = "events/2026/11/21/c.gz" // a file of the day itself
	ev.Records[3].S3.Object.Key = "events/2026/11/d.gz"    // not deep enough for a day
	if err := e.mon.HandleS3(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if c := e.counter(t, "lake/events/2026/11/21/"); c.Count != 3 {
		t.Errorf("the day counted %d objects, want 3", c.Count)
	}
	if e.item(t, "lake/events/2026/11/") != nil || e.item(t, "#object lake/events/2026/11/d.gz") != nil {
		t.Error("an object above the watch's depth was counted")
	}
}

func TestAManyObjectBatchIsCountedInTransactionsOf49(t *testing.T) {
	// GIVEN 100 new objects of one data set in one batch
	e := newEnv(t, observer.Constant, 3)
	var bodies []string
	for i := range 100 {
		bodies = append(bodies, obj{fmt.Sprintf("o%03d.gz", i), "v1"}.eb())
	}
	before := e.dbCalls.Load()
	e.deliver(t, bodies...)
	calls := e.dbCalls.Load() - before

	// THEN all are counted, in 3 transactions (49, 49 and 2 objects; DynamoDB allows 100 actions), the first made
	// twice, as it first guessed an observation was running; and one observation is started
	if c := e.counter(t, hour9); c.Count != 100 || !c.Observing {
		t.Fatalf("%d objects counted, observing %v; want 100, observing", c.Count, c.Observing)
	}
	if calls != 4 {
		t.Errorf("%d DynamoDB calls, want 4", calls)
	}
	if n := e.step(t); n != 1 {
		t.Errorf("%d readings, want the one observation's", n)
	}
}

// cancelled is a TransactWriteItems answer of DynamoDB cancelling a transaction of n actions: the first's reason is
// code (and message), the others' None.
func cancelled(n int, code, message string) fault.Fault {
	reasons := []map[string]string{{"Code": code, "Message": message}}
	for range n - 1 {
		reasons = append(reasons, map[string]string{"Code": "None"})
	}
	body, _ := json.Marshal(map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		"Message": "Transaction cancelled, please refer cancellation reasons for specific reasons", "CancellationReasons": reasons})
	return fault.JSON(400, string(body))
}

func TestCountingRetriesTransactionsThatConflictAndGivesUpWithoutAgreement(t *testing.T) {
	ctx := context.Background()
	a := observer.Object{Bucket: "lake", Key: "events/2026/11/21/09/a.gz", VersionID: "v1"}

	// A transaction that conflicts with another (DynamoDB's TransactionConflict, which moto never answers) is made
	// again: the object is counted once.
	e := newEnv(t, observer.Constant, 3)
	conflict := &fault.Injector{Operation: "TransactWriteItems", Times: 2, Fault: cancelled(3, "TransactionConflict", "Transaction is ongoing for the item")}
	e.mon.DB = newDynamo(e, conflict)
	if err := e.mon.Count(ctx, []observer.Object{a}); err != nil {
		t.Fatalf("count after 2 conflicts: %v", err)
	}
	if c := e.counter(t, hour9); c.Count != 1 || !c.Observing || conflict.Injected() != 2 {
		t.Fatalf("%+v after %d conflicts; want 1 object, observed", c, conflict.Injected())
	}

	// One that conflicts every time gives up after 12 transactions for 2 objects (2 per object, and 8), and says so.
	e = newEnv(t, observer.Constant, 3)
	always := &fault.Injector{Operation: "TransactWriteItems", Fault: cancelled(5, "ThrottlingError", "Throughput exceeds the current capacity")}
	e.mon.DB = newDynamo(e, always)
	b := observer.Object{Bucket: "lake", Key: "events/2026/11/21/09/b.gz", VersionID: "v1"}
	err := e.mon.Count(ctx, []observer.Object{a, b})
	if err == nil || err.Error() != "count 2 objects of "+hour9+": no agreement after 12 transactions" || always.Calls() != 12 {
		t.Errorf("count under constant contention: %v after %d transactions; want it to give up after 12", err, always.Calls())
	}

	// Any other reason is an error that names it.
	e = newEnv(t, observer.Constant, 3)
	e.mon.DB = newDynamo(e, &fault.Injector{Operation: "TransactWriteItems", Fault: cancelled(3, "ValidationError", "Item size has exceeded the maximum allowed size")})
	if err := e.mon.Count(ctx, []observer.Object{a}); err == nil ||
		err.Error() != "count 1 objects of "+hour9+": ValidationError: Item size has exceeded the maximum allowed size" {
		t.Errorf("count of an item DynamoDB refuses: %v", err)
	}
}

func TestAFailedCountComesBackForItsObjectMessagesOnly(t *testing.T) {
	// GIVEN a DynamoDB that refuses every transaction
	e := newEnv(t, observer.Constant, 3)
	refuse := &fault.Injector{Operation: "TransactWriteItems", Fault: fault.JSONError(400, "AccessDeniedException", "not allowed")}
	e.mon.DB = newDynamo(e, refuse)

	// WHEN a batch holds an EventBridge event and an S3 notification of objects, an expectation and noise
	resp, err := e.mon.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "eb", Body: obj{"a.gz", "v1"}.eb()},
		{MessageId: "expect", Body: expectation("2026-11-21T10:05:00Z")},
		{MessageId: "s3", Body: obj{"b.gz", "v1"}.s3()},
		{MessageId: "noise", Body: `{"hello":"world"}`},
	}})

	// THEN the object messages come again; the expectation was taken (its update is not a transaction), the noise
	// dropped
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if err != nil || strings.Join(failed, ",") != "eb,s3" {
		t.Fatalf("failed %v, %v; want the two object messages back", failed, err)
	}
	if c := e.counter(t, "lake/events/2026/11/21/10/"); !c.Observing || c.ExpectedAt == 0 {
		t.Errorf("the expected data set: %+v; want it observed", c)
	}
	err = e.mon.Count(context.Background(), []observer.Object{{Bucket: "lake", Key: "events/2026/11/21/09/a.gz"}, {Bucket: "lake", Key: "events/2026/11/21/09/b.gz"}})
	if err == nil || !strings.HasPrefix(err.Error(), "count 2 objects of "+hour9+": ") || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("count refused: %v; want it to name the objects' number, the data set and the cause", err)
	}

	// An expectation that cannot be taken comes again alone; the objects are counted.
	e = newEnv(t, observer.Constant, 3)
	e.mon.DB = newDynamo(e, &fault.Injector{Operation: "UpdateItem", Fault: fault.JSONError(400, "AccessDeniedException", "not allowed")})
	resp, err = e.mon.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "eb", Body: obj{"a.gz", "v1"}.eb()},
		{MessageId: "expect", Body: expectation("2026-11-21T10:05:00Z")},
	}})
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "expect" {
		t.Fatalf("failures %+v, %v; want the expectation back", resp.BatchItemFailures, err)
	}
	if c := e.counter(t, hour9); c.Count != 1 {
		t.Errorf("%d objects counted, want 1", c.Count)
	}
	if _, err := e.mon.Expect(context.Background(), "lake/events/2026/11/21/10/"); err == nil || !strings.HasPrefix(err.Error(), "start observing lake/events/2026/11/21/10/: ") {
		t.Errorf("an expectation DynamoDB refuses: %v; want an error naming the data set", err)
	}
}
