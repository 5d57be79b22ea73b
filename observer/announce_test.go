package observer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/test/fault"
)

// subjects subscribes a queue to the observer's topic without raw delivery, so that its messages keep their
// subject, and returns a function that reads the subjects published so far.
func (e *env) subjects(t *testing.T) func() []string {
	t.Helper()
	ctx := context.Background()
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("subjects-%d", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if _, err := sns.NewFromConfig(e.cfg).Subscribe(ctx, &sns.SubscribeInput{TopicArn: &e.obs.TopicARN, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		var out []string
		for {
			msgs := e.receive(t, *q.QueueUrl, 10)
			if len(msgs) == 0 {
				return out
			}
			for _, m := range msgs {
				var envelope struct{ Subject string }
				json.Unmarshal([]byte(*m.Body), &envelope)
				out = append(out, envelope.Subject)
				e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle})
			}
		}
	}
}

// take receives the one reading the readings queue holds and removes it.
func (e *env) take(t *testing.T) observer.Reading {
	t.Helper()
	msgs := e.receive(t, e.readings, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d readings queued, want 1", len(msgs))
	}
	e.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &e.readings, ReceiptHandle: msgs[0].ReceiptHandle})
	var r observer.Reading
	if err := json.Unmarshal([]byte(*msgs[0].Body), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestObserverDefaults(t *testing.T) {
	// GIVEN an observer with nothing set but its clients: no strategy, no N, no MaxWait, no logger
	e := newEnv(t, "", 0)
	e.obs.MaxWait, e.obs.Logger, e.mon.Logger = 0, nil, nil
	ctx := context.Background()

	// WHEN an empty data set is observed: it is still observed just before 24 hours, and given up at 24 hours
	const empty = "lake/events/2026/11/21/07/"
	started := e.clock
	if ok, err := e.mon.Start(ctx, empty); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.step(t)
	e.clock = started.Add(24*time.Hour - time.Second)
	if e.step(t) != 1 || len(e.announced(t, e.readyQ)) != 0 {
		t.Fatal("the observation of an empty data set ended before 24 hours")
	}
	e.clock = started.Add(24 * time.Hour)
	e.step(t)
	if e.step(t) != 0 {
		t.Fatal("the observation of an empty data set goes on past 24 hours")
	}
	if gaveUp := e.announced(t, e.readyQ); len(gaveUp) != 1 || !strings.HasPrefix(gaveUp[0].ObservationID, observer.DataSetTimedOut+":") ||
		gaveUp[0].Readings != 3 || gaveUp[0].Completion != 0 {
		t.Fatalf("announcements %+v; want one DataSetTimedOut after 3 readings, with no completion number", gaveUp)
	}

	// WHEN a data set of one object is observed
	e.mon.HandleS3(ctx, created("ObjectCreated:Put"))
	e.drain(t)

	// THEN it is ready after the reading that first sees it and 3 unchanged readings: 4 readings
	ready := e.announced(t, e.readyQ)
	if len(ready) != 1 || ready[0].Readings != 4 || ready[0].Objects != 1 || ready[0].Completion != 1 {
		t.Fatalf("announcements %+v; want one DataSetReady of 1 object after 4 readings", ready)
	}
}

func TestAnnouncementSaysWhatTheObservationSaw(t *testing.T) {
	// GIVEN objects counted at 09:00 and 09:02, and an overwrite at 09:03
	e := newEnv(t, observer.Constant, 2)
	subjects := e.subjects(t)
	e.deliver(t, obj{"a.gz", "v1"}.eb(), obj{"b.gz", "v1"}.eb())
	e.step(t)
	e.step(t)
	e.deliver(t, obj{"c.gz", "v1"}.eb())
	e.step(t)
	e.deliver(t, obj{"c.gz", "v2"}.eb())
	e.drain(t)

	// THEN the announcement has the data set, its objects and overwrites, and when it first and last changed
	ready, topic := e.announced(t, e.readyQ), e.announced(t, e.topicQ)
	if len(ready) != 1 || len(topic) != 1 {
		t.Fatalf("EventBridge %+v, SNS %+v; want one announcement on each", ready, topic)
	}
	a := topic[0]
	first, last := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 9, 3, 0, 0, time.UTC)
	if a.DataSet != hour9 || a.Objects != 3 || a.Overwrites != 1 || !a.FirstChange.Equal(first) || !a.LastChange.Equal(last) ||
		a.FirstChange.Location() != time.UTC || a.Completion != 1 || a.ObservationID == "" || a.Readings != 6 {
		t.Errorf("announcement %+v; want hour 9, 3 objects, 1 overwrite, first change %v, last %v, completion 1, 6 readings", a, first, last)
	}
	if got := subjects(); len(got) != 1 || got[0] != "Data set ready: 3 objects" {
		t.Errorf("SNS subjects %q", got)
	}
}

func TestGivingUpSaysWhetherAnythingArrived(t *testing.T) {
	e := newEnv(t, observer.Constant, 1000)
	e.obs.MaxWait = 5 * time.Minute
	subjects := e.subjects(t)
	ctx := context.Background()
	// An observation that saw objects gives up after MaxWait.
	e.mon.HandleS3(ctx, created("ObjectCreated:Put", "ObjectCreated:Put"))
	e.drain(t)
	// One that saw none says the data set never arrived.
	if ok, err := e.mon.Start(ctx, "lake/events/2026/11/21/10/"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	e.drain(t)
	got := subjects()
	want := []string{"Data set observation gave up after 6 readings", "Data set never arrived: no object after 6 readings"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SNS subjects %q, want %q", got, want)
	}
	for _, a := range e.announced(t, e.topicQ) {
		if a.Completion != 0 {
			t.Errorf("a give-up announcement has completion %d", a.Completion)
		}
	}
}

func TestAnAnnouncementThatFailsIsMadeWhenTheReadingComesAgain(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault func(e *env) func()
		says  string
	}{
		{"EventBridge refuses the call", func(e *env) func() {
			inj := &fault.Injector{Operation: "PutEvents", Times: 1, Fault: fault.JSONError(400, "AccessDeniedException", "not allowed")}
			e.obs.Events = eventbridge.NewFromConfig(e.cfg, func(o *eventbridge.Options) { o.APIOptions = append(o.APIOptions, inj.Install) })
			return func() {}
		}, "announce DataSetReady of " + hour9 + " on EventBridge: "},
		{"EventBridge fails the entry", func(e *env) func() {
			inj := &fault.Injector{Operation: "PutEvents", Times: 1, Fault: fault.JSON(200,
				`{"FailedEntryCount":1,"Entries":[{"ErrorCode":"InternalFailure","ErrorMessage":"internal failure, try again"}]}`)}
			e.obs.Events = eventbridge.NewFromConfig(e.cfg, func(o *eventbridge.Options) { o.APIOptions = append(o.APIOptions, inj.Install) })
			return func() {}
		}, "announce DataSetReady of " + hour9 + " on EventBridge: internal failure, try again"},
		{"SNS refuses the call", func(e *env) func() {
			inj := &fault.Injector{Operation: "Publish", Times: 1, Fault: fault.APIError("AuthorizationError", "not allowed")}
			e.obs.Topic = sns.NewFromConfig(e.cfg, func(o *sns.Options) { o.APIOptions = append(o.APIOptions, inj.Install) })
			return func() { e.announced(t, e.readyQ) } // EventBridge got it the first time, and gets it again
		}, "announce DataSetReady of " + hour9 + " on SNS: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			// GIVEN a data set of one object whose completing reading cannot announce
			e := newEnv(t, observer.Constant, 1)
			forget := c.fault(e)
			ctx := context.Background()
			e.deliver(t, obj{"a.gz", "v1"}.eb())
			e.step(t)
			completing := e.take(t)
			err := e.obs.Read(ctx, completing)
			if err == nil || !strings.HasPrefix(err.Error(), c.says) {
				t.Fatalf("the completing reading: %v; want an error that says %q", err, c.says)
			}
			if cnt := e.counter(t, hour9); cnt.Observing || cnt.Pending != observer.DataSetReady || cnt.Completions != 1 {
				t.Fatalf("after the failed announcement: %+v; want the observation ended, its DataSetReady owed", cnt)
			}
			forget()
			if got := e.announced(t, e.topicQ); len(got) != 0 {
				t.Fatalf("announced on SNS %+v, although the announcement failed", got)
			}

			// WHEN the reading comes again (SQS delivers it again, as Handle reported it failed)
			resp, _ := e.obs.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: mustJSON(completing)}}})

			// THEN the announcement is made, once, and no longer owed; a further delivery changes nothing
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("the reading failed again: %+v", resp)
			}
			ready, topic := e.announced(t, e.readyQ), e.announced(t, e.topicQ)
			if len(ready) != 1 || len(topic) != 1 || topic[0].Objects != 1 || topic[0].Completion != 1 || topic[0].Readings != completing.Step {
				t.Fatalf("EventBridge %+v, SNS %+v; want one DataSetReady of 1 object on each", ready, topic)
			}
			if cnt := e.counter(t, hour9); cnt.Pending != "" {
				t.Errorf("the announcement is still owed after it was made: %+v", cnt)
			}
			e.obs.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: mustJSON(completing)}}})
			if again := append(e.announced(t, e.readyQ), e.announced(t, e.topicQ)...); len(again) != 0 || e.step(t) != 0 {
				t.Errorf("a third delivery announced %+v", again)
			}
		})
	}
}

// newDynamo is a DynamoDB client of the env's moto with the injectors installed.
func newDynamo(e *env, inj ...*fault.Injector) *dynamodb.Client {
	return dynamodb.NewFromConfig(e.cfg, func(o *dynamodb.Options) {
		for _, i := range inj {
			o.APIOptions = append(o.APIOptions, i.Install)
		}
	})
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestHandleDropsWhatIsNotAReadingAndReportsFailedReadings(t *testing.T) {
	// GIVEN an observation running, and a DynamoDB that refuses the reading of one data set
	e := newEnv(t, observer.Constant, 3)
	ctx := context.Background()
	e.deliver(t, obj{"a.gz", "v1"}.eb())
	good := e.take(t)
	refused := observer.Reading{DataSet: "lake/events/2026/11/21/11/", ObservationID: "x", Step: 1, LastCount: -1}
	inj := &fault.Injector{Operation: "UpdateItem", Fault: fault.JSONError(400, "AccessDeniedException", "not allowed"),
		Match: func(c fault.Call) bool {
			return c.Input.(*dynamodb.UpdateItemInput).Key[observer.AttrDataSet].(*types.AttributeValueMemberS).Value == refused.DataSet
		}}
	db := newDynamo(e, inj)
	e.obs.DB = db

	// WHEN a batch holds messages that are not readings, the refused reading and a good one
	resp, err := e.obs.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "not json", Body: "hello"},
		{MessageId: "no data set", Body: `{"observationId":"x","step":1}`},
		{MessageId: "no observation", Body: `{"dataSet":"` + hour9 + `","step":1}`},
		{MessageId: "refused", Body: mustJSON(refused)},
		{MessageId: "good", Body: mustJSON(good)},
	}})

	// THEN only the refused reading is reported failed (SQS delivers it again); the others are dropped, and the good
	// one is taken
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "refused" {
		t.Fatalf("response %+v, %v; want only the refused reading failed", resp, err)
	}
	if c := e.counter(t, hour9); c.Step != 1 {
		t.Errorf("the good reading was not taken: %+v", c)
	}
	if inj.Injected() != 1 {
		t.Errorf("%d refused calls; want the refused reading's only", inj.Injected())
	}
	if err := e.obs.Read(ctx, refused); err == nil || !strings.HasPrefix(err.Error(), "claim reading 1 of "+refused.DataSet+": ") {
		t.Errorf("the refused reading: %v; want an error naming its step and data set", err)
	}
}

func TestWithoutALoggerDroppedMessagesGoToTheDefaultLogger(t *testing.T) {
	// GIVEN a monitor and an observer without a logger, and the program's default logger writing to a buffer
	e := newEnv(t, observer.Constant, 3)
	e.mon.Logger, e.obs.Logger = nil, nil
	var buf bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))

	// WHEN each is handed a message it cannot take
	ctx := context.Background()
	e.mon.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-1", Body: "hello"}}})
	e.obs.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m-2", Body: "hello"}}})

	// THEN both say so on the default logger, naming the message
	for _, want := range []string{
		`level=WARN msg="dropping a message that is neither an S3 event nor an expectation" messageId=m-1`,
		`level=WARN msg="dropping a message that is not a reading" messageId=m-2`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("the default logger got %q; want %q", buf.String(), want)
		}
	}
}
