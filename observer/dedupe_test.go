package observer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/observer"
)

const hour9 = "lake/events/2026/11/21/09/"

// obj is one write of an object of hour 9: its key's base name and its version.
type obj struct{ name, version string }

func (o obj) key() string { return "events/2026/11/21/09/" + o.name }

// sequencer is what S3 would give this write: the same in both event formats.
func (o obj) sequencer() string { return fmt.Sprintf("%X", o.name+o.version) }

// eb is the write's EventBridge "Object Created" event, as the queue carries it.
func (o obj) eb() string {
	return fmt.Sprintf(`{"version":"0","id":"%s","source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"lake"},`+
		`"object":{"key":%q,"size":10,"etag":"e-%s","version-id":%q,"sequencer":%q},"reason":"PutObject"}}`, time.Now().Format(time.RFC3339Nano), o.key(), o.version, o.version, o.sequencer())
}

// s3 is the write's S3 notification (keys URL-encoded).
func (o obj) s3() string {
	return fmt.Sprintf(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"lake"},"object":{"key":%q,"versionId":%q,"sequencer":%q,"eTag":"e-%s"}}}]}`,
		strings.ReplaceAll(o.key(), " ", "+"), o.version, o.sequencer(), o.version)
}

// deliver hands the bodies to the monitor in one batch; every message must succeed.
func (e *env) deliver(t *testing.T, bodies ...string) {
	t.Helper()
	var in events.SQSEvent
	for i, b := range bodies {
		in.Records = append(in.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: b})
	}
	resp, err := e.mon.HandleSQS(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch failed: %v %+v", err, resp.BatchItemFailures)
	}
}

func (e *env) counter(t *testing.T, ds string) observer.Counter {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"dataSet": &types.AttributeValueMemberS{Value: ds}}})
	if err != nil {
		t.Fatal(err)
	}
	var c observer.Counter
	if err := attributevalue.UnmarshalMap(out.Item, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// drain runs the observation loop until no reading is left, and fails if it ever forks.
func (e *env) drain(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		n := e.step(t)
		if n == 0 {
			return
		}
		if n > 1 && i > 0 {
			t.Fatalf("%d readings at once at step %d: the observation forked", n, i+1)
		}
		if i > 500 {
			t.Fatal("the observation does not end")
		}
	}
}

func bodies(objs []obj, format func(obj) string) []string {
	var out []string
	for _, o := range objs {
		out = append(out, format(o))
	}
	return out
}

func TestRedeliveryCountsNothingTwice(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	objs := []obj{{"a.gz", "v1"}, {"b.gz", "v1"}, {"c.gz", "v1"}, {"d.gz", "v1"}, {"e e.gz", "v1"}}
	eb, s3 := bodies(objs, obj.eb), bodies(objs, obj.s3)

	// Same batch: every event twice, and the first object once more as an S3 notification.
	e.deliver(t, append(append(slices.Clone(eb), eb...), s3[0])...)
	c := e.counter(t, hour9)
	if c.Count != 5 || c.Overwrites != 0 || !c.Observing {
		t.Fatalf("after one batch with redeliveries: %d objects, %d overwrites, observing %v; want 5, 0, true", c.Count, c.Overwrites, c.Observing)
	}
	first := c

	// Later batches, out of order, in both formats, during the observation: nothing changes, and no second loop.
	e.clock = e.clock.Add(time.Minute)
	e.deliver(t, eb[4], s3[2], eb[0])
	e.step(t)
	e.deliver(t, s3[4], s3[3], s3[1], s3[0])
	if c = e.counter(t, hour9); c.Count != 5 || c.LastChange != first.LastChange || c.ObservationID != first.ObservationID {
		t.Fatalf("after redeliveries: %+v; want it unchanged from %+v", c, first)
	}
	e.drain(t)
	ready := e.announced(t, e.readyQ)
	if len(ready) != 1 || ready[0].Objects != 5 || ready[0].Completion != 1 {
		t.Fatalf("announcements %+v, want one DataSetReady of 5 objects", ready)
	}

	// After the completion, every event again, in reverse order: no change, no observation, no announcement.
	slices.Reverse(eb)
	e.deliver(t, append(eb, s3...)...)
	e.deliver(t, eb[2])
	if c = e.counter(t, hour9); c.Count != 5 || c.Observing || c.Completions != 1 || c.LastChange != first.LastChange {
		t.Fatalf("after redeliveries past the completion: %+v", c)
	}
	if n := e.step(t); n != 0 {
		t.Fatalf("a redelivery after the completion started an observation (%d readings)", n)
	}
	if got := e.announced(t, e.readyQ); len(got) != 0 {
		t.Fatalf("a redelivery after the completion announced %+v", got)
	}
}

func TestOverwriteIsAChangeNotAnObject(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	a1, a2, b1 := obj{"a.gz", "v1"}, obj{"a.gz", "v2"}, obj{"b.gz", "v1"}
	e.deliver(t, a1.eb(), b1.eb())
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].Objects != 2 || ready[0].Overwrites != 0 {
		t.Fatalf("announcements %+v, want one DataSetReady of 2 objects", ready)
	}

	// A new version of a counted key after the completion: the same objects, one overwrite, a new completion.
	e.deliver(t, a2.eb())
	if c := e.counter(t, hour9); c.Count != 2 || c.Overwrites != 1 || !c.Observing {
		t.Fatalf("after an overwrite: %d objects, %d overwrites, observing %v; want 2, 1, true", c.Count, c.Overwrites, c.Observing)
	}
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].Objects != 2 || ready[0].Overwrites != 1 || ready[0].Completion != 2 {
		t.Fatalf("announcements %+v, want one DataSetReady of 2 objects and 1 overwrite, completion 2", ready)
	}
	// Redeliveries of either version, in any order, change nothing.
	e.deliver(t, a2.s3(), a1.eb(), b1.s3(), a1.s3())
	if c := e.counter(t, hour9); c.Count != 2 || c.Overwrites != 1 || c.Observing {
		t.Fatalf("after redeliveries of both versions: %+v", c)
	}

	// During an observation, an overwrite restarts the count of unchanged readings: with N = 3, the readings that
	// complete are 4 without it (a first one, then 3 unchanged), 6 with it after the second reading.
	b2, b3 := obj{"b.gz", "v2"}, obj{"b.gz", "v3"}
	e.deliver(t, b2.eb())
	e.step(t)
	e.step(t)
	e.deliver(t, b3.eb())
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].Readings != 6 || ready[0].Overwrites != 3 {
		t.Fatalf("announcements %+v, want one DataSetReady after 6 readings, of 3 overwrites", ready)
	}

	// Two versions of a new key, in one batch or in reverse order in two: one object, one overwrite either way.
	c1, c2, d1, d2 := obj{"c.gz", "v1"}, obj{"c.gz", "v2"}, obj{"d.gz", "v1"}, obj{"d.gz", "v2"}
	e.deliver(t, c1.eb(), c2.eb())
	e.deliver(t, d2.eb())
	e.deliver(t, d1.s3(), d2.s3())
	if c := e.counter(t, hour9); c.Count != 4 || c.Overwrites != 5 {
		t.Fatalf("after two new keys of two versions each: %d objects, %d overwrites; want 4, 5", c.Count, c.Overwrites)
	}
}

// racing runs another monitor's whole batch just before this monitor's first transaction: the other counts first.
type racing struct {
	observer.DynamoAPI
	once  atomic.Bool
	other func()
}

func (r *racing) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if r.once.CompareAndSwap(false, true) {
		r.other()
	}
	return r.DynamoAPI.TransactWriteItems(ctx, in, o...)
}

func TestTwoMonitorsRacingOnTheSameEventsCountThemOnce(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	objs := []obj{{"a.gz", "v1"}, {"b.gz", "v1"}, {"b.gz", "v2"}, {"c.gz", "v1"}}
	other := *e.mon
	mine := *e.mon
	mine.DB = &racing{DynamoAPI: e.db, other: func() {
		if err := other.Count(context.Background(), []observer.Object{
			{Bucket: "lake", Key: objs[1].key(), VersionID: "v1"}, {Bucket: "lake", Key: objs[0].key(), VersionID: "v1"}}); err != nil {
			t.Error(err)
		}
	}}
	var all []observer.Object
	for _, o := range objs {
		all = append(all, observer.Object{Bucket: "lake", Key: o.key(), VersionID: o.version})
	}
	if err := mine.Count(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	if c := e.counter(t, hour9); c.Count != 3 || c.Overwrites != 1 {
		t.Fatalf("%d objects, %d overwrites; want 3, 1", c.Count, c.Overwrites)
	}
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 {
		t.Fatalf("announcements %+v, want one DataSetReady", ready)
	}
}

// failingQueue fails the next sends it is told to.
type failingQueue struct {
	observer.QueueAPI
	fail atomic.Int32
}

func (q *failingQueue) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	if q.fail.Add(-1) >= 0 {
		return nil, errors.New("injected: SQS unavailable")
	}
	return q.QueueAPI.SendMessage(ctx, in, o...)
}

func TestRedeliveryAfterAFailedStartResumesTheObservation(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	q := &failingQueue{QueueAPI: e.mon.Queue}
	e.mon.Queue = q
	a := obj{"a.gz", "v1"}
	// The object is counted and the observation started, then sending its first reading fails: the batch fails.
	q.fail.Store(1)
	resp, _ := e.mon.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: a.eb()}}})
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("failures %+v, want the message back", resp.BatchItemFailures)
	}
	if c := e.counter(t, hour9); c.Count != 1 || !c.Observing || c.Step != 0 {
		t.Fatalf("%+v, want 1 object counted and an observation that has no reading", c)
	}
	// Its redelivery counts nothing, and sends the reading that was lost.
	e.deliver(t, a.eb())
	if c := e.counter(t, hour9); c.Count != 1 {
		t.Fatalf("the redelivery counted again: %d objects", c.Count)
	}
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].Objects != 1 {
		t.Fatalf("announcements %+v, want one DataSetReady of 1 object", ready)
	}
}

// expectation is the body the watch's schedule sends the monitor's queue (see constructs/observer).
func expectation(at string) string {
	return `{"expect":{"bucket":"lake","layout":"2006/01/02/15/","prefix":"events/","time":"` + at + `"}}`
}

func TestExpectedDataSetThatNeverArrivesTimesOutOnce(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	e.obs.MaxWait = 20 * time.Minute // 21 readings, a minute apart
	// The schedule's event, delivered twice at once (the second finds the observation before its first reading).
	e.deliver(t, expectation("2026-11-21T09:05:00Z"))
	c := e.counter(t, hour9)
	if !c.Observing || c.ExpectedAt == 0 || c.Count != 0 {
		t.Fatalf("after the expectation: %+v, want an observation of an expected, empty data set", c)
	}
	e.deliver(t, expectation("2026-11-21T09:05:00Z"))
	if again := e.counter(t, hour9); again.ObservationID != c.ObservationID || again.StartedAt != c.StartedAt {
		t.Fatalf("a second expectation started another observation: %+v", again)
	}
	for i := 0; ; i++ {
		n := e.step(t)
		if n == 0 {
			break
		}
		if n > 1 && i > 0 {
			t.Fatalf("%d readings at step %d: the observation forked", n, i+1)
		}
		if i == 10 { // the schedule's event again, mid-observation (a retry): nothing starts, nothing is resent
			e.deliver(t, expectation("2026-11-21T09:05:00Z"))
			if again := e.counter(t, hour9); again.ObservationID != c.ObservationID {
				t.Fatal("a third expectation started another observation")
			}
		}
	}
	ready, topic := e.announced(t, e.readyQ), e.announced(t, e.topicQ)
	if len(ready) != 1 || !strings.HasPrefix(ready[0].ObservationID, observer.DataSetTimedOut+":") || ready[0].Objects != 0 || len(topic) != 1 ||
		ready[0].DataSet != hour9 || !ready[0].FirstChange.IsZero() || !topic[0].LastChange.IsZero() {
		t.Fatalf("EventBridge %+v, SNS %+v; want exactly one DataSetTimedOut of hour 9, 0 objects, no changes, on each", ready, topic)
	}
	// After the give-up, the expectation again starts nothing.
	e.deliver(t, expectation("2026-11-21T09:05:00Z"))
	if n := e.step(t); n != 0 {
		t.Fatalf("an expectation after the give-up started an observation (%d readings)", n)
	}
	if got := e.announced(t, e.readyQ); len(got) != 0 {
		t.Fatalf("announced %+v after the give-up", got)
	}
}

func TestExpectedDataSetThatArrivesCompletesOnce(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	ctx := context.Background()
	x := observer.Expectation{Bucket: "lake", Prefix: "events/", Layout: "2006/01/02/15/", Time: time.Date(2026, 11, 21, 10, 5, 0, 0, time.FixedZone("CET", 3600))}
	if x.DataSet() != hour9 {
		t.Fatalf("expectation names %s, want %s (the hour in UTC)", x.DataSet(), hour9)
	}
	if started, err := e.mon.HandleExpectation(ctx, x); err != nil || !started {
		t.Fatal(started, err)
	}
	id := e.counter(t, hour9).ObservationID
	for range 5 {
		if e.step(t) != 1 {
			t.Fatal("the observation of the expected data set died")
		}
	}
	// The objects arrive: counted into the running observation, which completes once.
	e.deliver(t, obj{"a.gz", "v1"}.eb(), obj{"b.gz", "v1"}.eb(), obj{"c.gz", "v1"}.eb())
	if c := e.counter(t, hour9); c.ObservationID != id || c.Count != 3 {
		t.Fatalf("%+v: want 3 objects in observation %s", c, id)
	}
	if started, err := e.mon.HandleExpectation(ctx, x); err != nil || started {
		t.Fatal("a second expectation started an observation", err)
	}
	e.drain(t)
	e.clock = e.clock.Add(2 * time.Hour) // past MaxWait: nothing is left to give up
	e.drain(t)
	ready, topic := e.announced(t, e.readyQ), e.announced(t, e.topicQ)
	if len(ready) != 1 || !strings.HasPrefix(ready[0].ObservationID, observer.DataSetReady+":"+id) || ready[0].Objects != 3 || ready[0].Completion != 1 || len(topic) != 1 {
		t.Fatalf("EventBridge %+v, SNS %+v; want exactly one DataSetReady of 3 objects on each", ready, topic)
	}
	if started, err := e.mon.HandleExpectation(ctx, x); err != nil || started || e.step(t) != 0 {
		t.Fatal("an expectation after the completion started an observation", err)
	}
	// An hour whose first object came before its expectation: the expectation starts nothing.
	e.deliver(t, `{"version":"0","source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"lake"},"object":{"key":"events/2026/11/21/11/x.gz","sequencer":"01"}}}`)
	if started, err := e.mon.HandleExpectation(ctx, observer.Expectation{Bucket: "lake", Prefix: "events/", Layout: "2006/01/02/15/", Time: time.Date(2026, 11, 21, 11, 5, 0, 0, time.UTC)}); err != nil || started {
		t.Fatal("an expectation of a data set with objects started an observation", err)
	}
	// (It sends the first reading again, as the observation has not been read yet: the observer drops the duplicate.)
	e.drain(t)
	if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].DataSet != "lake/events/2026/11/21/11/" || ready[0].Objects != 1 {
		t.Fatalf("announcements %+v, want one DataSetReady of hour 11, 1 object", ready)
	}
}

func TestExpectationOfAnUnwatchedDataSetIsDropped(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	for _, body := range []string{
		`{"expect":{"bucket":"other","layout":"2006/01/02/15/","prefix":"events/","time":"2026-11-21T09:05:00Z"}}`,
		`{"expect":{"bucket":"lake","layout":"2006/01/02/15","prefix":"events/","time":"2026-11-21T09:05:00Z"}}`,
		`{"expect":{"bucket":"lake","layout":"2006/01/02/15/","prefix":"errors/","time":"2026-11-21T09:05:00Z"}}`,
		`{"expect":{"bucket":"lake","layout":"2006/01/02/15/","prefix":"events/"}}`,
	} {
		e.deliver(t, body) // dropped, not failed: it could never succeed
	}
	if n := e.step(t); n != 0 {
		t.Fatalf("%d readings after expectations of no watched data set", n)
	}
}
