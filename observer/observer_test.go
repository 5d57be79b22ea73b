package observer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

type env struct {
	cfg              aws.Config
	sqs              *sqs.Client
	db               *dynamodb.Client
	table, readings  string
	readyQ, topicQ   string
	mon              *observer.Monitor
	obs              *observer.Observer
	clock            time.Time
	dbCalls, sqsSent atomic.Int64
	steps            int
}

func counter(n *atomic.Int64) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("Count", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			n.Add(1)
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

func newEnv(t testing.TB, strategy observer.Strategy, unchanged int) *env {
	cfg := moto.Config(t)
	ctx := context.Background()
	e := &env{cfg: cfg, clock: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	// A test of the env that runs for 2 minutes hangs (an endless loop in a count, say): end the test binary, rather
	// than wait for go test's timeout.
	ended := make(chan struct{})
	t.Cleanup(func() { close(ended) })
	go func() {
		select {
		case <-ended:
		case <-time.After(2 * time.Minute):
			panic(fmt.Sprintf("%s has run for 2 minutes: it hangs", t.Name()))
		}
	}()
	e.db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, counter(&e.dbCalls)) })
	e.sqs = sqs.NewFromConfig(cfg)
	countingSQS := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, counter(&e.sqsSent)) })
	suffix := fmt.Sprint(time.Now().UnixNano())
	e.table = "counters-" + suffix
	if _, err := e.db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &e.table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("dataSet"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("dataSet"), KeyType: types.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	queue := func(name string) (string, string) {
		q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + suffix)})
		if err != nil {
			t.Fatal(err)
		}
		attrs, _ := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
		return *q.QueueUrl, attrs.Attributes["QueueArn"]
	}
	var readyArn, topicQArn string
	e.readings, _ = queue("readings-")
	e.readyQ, readyArn = queue("ready-")
	e.topicQ, topicQArn = queue("topic-")
	// EventBridge: a bus of the test's own (so that no other test's rule gets its events), whose rule sends the
	// observer's events to a queue the test reads. The target's input transformer passes the whole event on, as a
	// target without one does: moto builds a parser for each of the 8 paths of its default template on every event
	// delivered (some 40 ms each), which made each announcement cost a third of a second; one path costs one.
	eb := eventbridge.NewFromConfig(cfg)
	bus := "observer-" + suffix
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: &bus}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: &bus, EventBusName: &bus, EventPattern: aws.String(`{"source":["eventlake.observer"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &bus, EventBusName: &bus, Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: &readyArn,
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: map[string]string{"id": "$.id"}, InputTemplate: aws.String("<aws.events.event.json>")}}}}); err != nil {
		t.Fatal(err)
	}
	// SNS: a topic with a queue subscribed.
	sc := sns.NewFromConfig(cfg)
	topic, _ := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("ready-" + suffix)})
	sc.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: &topicQArn,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})

	settings := observer.Settings{DB: e.db, Table: e.table, Queue: countingSQS, QueueURL: e.readings, Strategy: strategy, Delay: 0,
		Now: func() time.Time { return e.clock }}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.mon = &observer.Monitor{Settings: settings, Watches: []observer.Watch{{Bucket: "lake", Prefix: "events/"}}, Logger: quiet}
	e.obs = &observer.Observer{Settings: settings, Unchanged: unchanged, MaxWait: time.Hour, Events: eb, Bus: bus, Topic: sc, TopicARN: *topic.TopicArn, Logger: quiet}
	return e
}

func created(names ...string) events.S3Event {
	var ev events.S3Event
	for i, n := range names {
		var r events.S3EventRecord
		r.EventName = n
		r.S3.Bucket.Name = "lake"
		r.S3.Object.Key = fmt.Sprintf("events/2026/11/21/09/obj-%d-%d.gz", time.Now().UnixNano(), i)
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// receive returns up to max messages the queue holds, or none when it holds none: moto's sends are done when they
// return, so a queue whose counts are all zero is empty, and a test need not wait a long poll out to know it. When
// a receive comes back empty while the queue counts messages (in flight, or made visible by moto an instant
// later), it waits for them with long polls, for 10 seconds at most (a test must fail, not hang, when its messages
// never come).
func (e *env) receive(t testing.TB, queue string, max int32) []sqstypes.Message {
	t.Helper()
	ctx := context.Background()
	for wait, polls := int32(0), 0; ; wait, polls = 1, polls+1 {
		if polls > 10 {
			t.Fatalf("queue %s counts messages that do not come", queue)
		}
		out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: max, WaitTimeSeconds: wait})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			return out.Messages
		}
		attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &queue, AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
		if err != nil {
			t.Fatal(err)
		}
		empty := true
		for _, n := range attrs.Attributes {
			empty = empty && n == "0"
		}
		if empty {
			return nil
		}
	}
}

// step receives what the readings queue holds now and hands it to the observer; it returns the number of readings,
// 0 when the loop has ended. A test fails after 300 steps: an observation that does not end must not hang it.
func (e *env) step(t testing.TB) int {
	if e.steps++; e.steps > 300 {
		t.Fatal("300 readings: the observation does not end")
	}
	var in events.SQSEvent
	for _, m := range e.receive(t, e.readings, 10) {
		in.Records = append(in.Records, events.SQSMessage{MessageId: *m.MessageId, Body: *m.Body})
		e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &e.readings, ReceiptHandle: m.ReceiptHandle})
	}
	if len(in.Records) == 0 {
		return 0
	}
	resp, _ := e.obs.Handle(context.Background(), in)
	if len(resp.BatchItemFailures) > 0 {
		t.Fatalf("readings failed: %+v", resp.BatchItemFailures)
	}
	e.clock = e.clock.Add(time.Minute)
	return len(in.Records)
}

func (e *env) announced(t testing.TB, queue string) []observer.Announcement {
	var out []observer.Announcement
	for {
		msgs := e.receive(t, queue, 10)
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			var body struct {
				DetailType string                 `json:"detail-type"`
				Detail     *observer.Announcement `json:"detail"`
			}
			var a observer.Announcement
			if json.Unmarshal([]byte(*m.Body), &body) == nil && body.Detail != nil {
				a = *body.Detail // EventBridge wraps the detail
				a.ObservationID = body.DetailType + ":" + a.ObservationID
			} else if err := json.Unmarshal([]byte(*m.Body), &a); err != nil {
				t.Fatalf("announcement %s: %v", *m.Body, err)
			}
			out = append(out, a)
			e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func TestMonitorCountsEveryKindOfCreationPerDataSet(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	ev := created("ObjectCreated:Put", "ObjectCreated:Post", "ObjectCreated:Copy", "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete", "ObjectCreated:Put")
	ev.Records[5].S3.Object.Key = "events/2026/11/21/10/other.gz" // another data set
	ev.Records = append(ev.Records, created("ObjectCreated:Put").Records...)
	ev.Records[6].S3.Object.Key = "errors/x" // not watched
	before := e.dbCalls.Load()
	if err := e.mon.HandleS3(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	calls := e.dbCalls.Load() - before
	for ds, want := range map[string]string{"lake/events/2026/11/21/09/": "4", "lake/events/2026/11/21/10/": "1"} {
		out, _ := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"dataSet": &types.AttributeValueMemberS{Value: ds}}})
		if got := out.Item["objects"].(*types.AttributeValueMemberN).Value; got != want {
			t.Errorf("%s counted %s, want %s", ds, got, want)
		}
	}
	// One transaction per data set, and one more per data set to start its observation (the first guesses one runs).
	if calls != 4 {
		t.Errorf("%d DynamoDB calls for 2 data sets, want 4 (a count and a start each)", calls)
	}
	if n := e.step(t); n != 2 {
		t.Errorf("%d observations started, want 2", n)
	}
}

func TestMonitorTakesQueuedEventBridgeAndS3Notifications(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	eb := func(key string) string {
		return fmt.Sprintf(`{"version":"0","source":"aws.s3","detail-type":"Object Created","detail":{"bucket":{"name":"lake"},"object":{"key":%q,"size":10},"reason":"PutObject"}}`, key)
	}
	s3n := `{"Records":[{"eventName":"ObjectCreated:CompleteMultipartUpload","s3":{"bucket":{"name":"lake"},"object":{"key":"events/2026/11/21/09/big%20file.gz"}}}]}`
	in := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: eb("events/2026/11/21/09/a.gz")}, {MessageId: "2", Body: eb("events/2026/11/21/09/b.gz")},
		{MessageId: "3", Body: s3n}, {MessageId: "4", Body: "noise"}}}
	before := e.dbCalls.Load()
	resp, err := e.mon.HandleSQS(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatal(err, resp)
	}
	if calls := e.dbCalls.Load() - before; calls != 2 {
		t.Errorf("%d DynamoDB calls for one data set, want 2 (one count, one start)", calls)
	}
	// While the observation runs, a batch is one transaction.
	before = e.dbCalls.Load()
	if resp, _ := e.mon.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "5", Body: eb("events/2026/11/21/09/c.gz")}}}); len(resp.BatchItemFailures) != 0 {
		t.Fatal(resp)
	}
	if calls := e.dbCalls.Load() - before; calls != 1 {
		t.Errorf("%d DynamoDB calls for a batch during an observation, want 1", calls)
	}
	out, _ := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &e.table, Key: map[string]types.AttributeValue{"dataSet": &types.AttributeValueMemberS{Value: "lake/events/2026/11/21/09/"}}})
	if got := out.Item["objects"].(*types.AttributeValueMemberN).Value; got != "4" {
		t.Errorf("counted %s objects, want 4", got)
	}
}

func TestObservationLifecycle(t *testing.T) {
	e := newEnv(t, observer.Constant, 3)
	ctx := context.Background()
	// Late start: observed before the first object exists; it keeps polling.
	if started, err := e.mon.Start(ctx, "lake/events/2026/11/21/09/"); err != nil || !started {
		t.Fatal(started, err)
	}
	for range 5 {
		if e.step(t) != 1 {
			t.Fatal("the observation of an empty data set died")
		}
	}
	// Growth: objects arrive between readings.
	for range 4 {
		e.mon.HandleS3(ctx, created("ObjectCreated:Put", "ObjectCreated:Put"))
		e.step(t)
	}
	if len(e.announced(t, e.readyQ)) != 0 {
		t.Fatal("announced while the data set was growing")
	}
	// Quiet: after 3 unchanged readings it is complete, announced once on EventBridge and once on SNS.
	for e.step(t) > 0 {
	}
	ready, topic := e.announced(t, e.readyQ), e.announced(t, e.topicQ)
	if len(ready) != 1 || len(topic) != 1 || ready[0].Objects != 8 || ready[0].Completion != 1 {
		t.Fatalf("EventBridge %+v, SNS %+v; want one DataSetReady of 8 objects each", ready, topic)
	}

	// Growth after completion: a new observation, a new completion with the higher count.
	e.mon.HandleS3(ctx, created("ObjectCreated:Put"))
	for e.step(t) > 0 {
	}
	ready = e.announced(t, e.readyQ)
	if len(ready) != 1 || ready[0].Objects != 9 || ready[0].Completion != 2 {
		t.Fatalf("after growth: %+v, want one more DataSetReady of 9 objects, completion 2", ready)
	}
}

func TestDuplicateDeliveryNeitherForksNorCompletesTwice(t *testing.T) {
	e := newEnv(t, observer.Constant, 2)
	ctx := context.Background()
	e.mon.HandleS3(ctx, created("ObjectCreated:Put"))
	// Deliver every reading twice.
	for i := 0; ; i++ {
		if i > 100 {
			t.Fatal("the observation does not end")
		}
		msgs := e.receive(t, e.readings, 1)
		if len(msgs) == 0 {
			break
		}
		m := msgs[0]
		e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &e.readings, ReceiptHandle: m.ReceiptHandle})
		in := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "a", Body: *m.Body}, {MessageId: "b", Body: *m.Body}}}
		e.obs.Handle(ctx, in)
		attrs, _ := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &e.readings, AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
		if n := attrs.Attributes["ApproximateNumberOfMessages"]; n != "0" && n != "1" {
			t.Fatalf("%s readings queued after a duplicate delivery: the observation forked", n)
		}
	}
	if ready := e.announced(t, e.readyQ); len(ready) != 1 {
		t.Errorf("%d DataSetReady events, want exactly 1", len(ready))
	}
}

func TestGiveUpIsAnnouncedOnce(t *testing.T) {
	e := newEnv(t, observer.Constant, 1000)
	e.obs.MaxWait = 15 * time.Minute
	ctx := context.Background()
	e.mon.HandleS3(ctx, created("ObjectCreated:Put"))
	for i := 0; i < 200 && e.step(t) > 0; i++ { // each step moves the test clock a minute
	}
	// The 16th reading, 15 minutes after the start, is the first at MaxWait: it gives up.
	ready := e.announced(t, e.readyQ)
	if len(ready) != 1 || ready[0].ObservationID[:len(observer.DataSetTimedOut)] != observer.DataSetTimedOut || ready[0].Readings != 16 {
		t.Errorf("announcements %+v, want exactly one DataSetTimedOut after 16 readings", ready)
	}
}
