package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/test/moto"
)

// newBus creates an event bus of the test's own, so that no other test's rules see its events.
func newBus(t testing.TB, cfg aws.Config) string {
	t.Helper()
	name := uniqueName(t, "bus")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	return name
}

// newRule creates a rule on a bus with its targets in moto, and returns it as the driver reads it.
func newRule(t testing.TB, cfg aws.Config, bus, pattern, schedule string, targets ...EventBridgeTarget) EventBridgeRule {
	t.Helper()
	ctx := context.Background()
	c := eventbridge.NewFromConfig(cfg)
	in := &eventbridge.PutRuleInput{Name: aws.String(uniqueName(t, "rule")), EventBusName: &bus}
	if pattern != "" {
		in.EventPattern = &pattern
	}
	if schedule != "" {
		in.ScheduleExpression = &schedule
	}
	out, err := c.PutRule(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var tgs []ebtypes.Target
	for _, tg := range targets {
		et := ebtypes.Target{Id: aws.String(tg.ID), Arn: aws.String(tg.ARN)}
		if tg.Input != "" {
			et.Input = &tg.Input
		}
		if tg.InputPath != "" {
			et.InputPath = &tg.InputPath
		}
		if it := tg.InputTransformer; it != nil {
			et.InputTransformer = &ebtypes.InputTransformer{InputPathsMap: it.InputPathsMap, InputTemplate: &it.InputTemplate}
		}
		if tg.DeadLetterARN != "" {
			et.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: &tg.DeadLetterARN}
		}
		tgs = append(tgs, et)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: in.Name, EventBusName: &bus, Targets: tgs}); err != nil {
		t.Fatal(err)
	}
	return EventBridgeRule{ARN: aws.ToString(out.RuleArn), EventPattern: pattern, ScheduleExpression: schedule, Targets: targets}
}

// putEvent puts one event on a bus and returns the error of the call or of the entry.
func putEvent(t testing.TB, cfg aws.Config, bus, source, detailType, detail string) error {
	t.Helper()
	noRetries := func(o *eventbridge.Options) { o.RetryMaxAttempts = 1 } // moto's failures are final
	out, err := eventbridge.NewFromConfig(cfg, noRetries).PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: &bus, Source: &source, DetailType: &detailType, Detail: &detail,
	}}})
	if err == nil && out.FailedEntryCount > 0 {
		err = fmt.Errorf("%s", aws.ToString(out.Entries[0].ErrorMessage))
	}
	return err
}

// functionARN is the ARN of a function of that name in moto's account and region.
func functionARN(name string) string { return "arn:aws:lambda:us-east-1:123456789012:function:" + name }

// newEventBridge makes a driver of rules whose Lambda targets are the fakes of fns, by ARN.
func newEventBridge(t testing.TB, cfg aws.Config, rules []EventBridgeRule, fns map[string]Invoker) *EventBridge {
	t.Helper()
	e, err := NewEventBridge(context.Background(), cfg, rules, func(arn string) Invoker {
		if fn, ok := fns[arn]; ok {
			return fn
		}
		return nil
	}, WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEventBridgeDeliversToLambdaTargets(t *testing.T) {
	// GIVEN a rule with a pattern and three targets: a function, a function with an input transformer, and a queue
	cfg := moto.Config(t)
	ctx := context.Background()
	bus := newBus(t, cfg)
	queue, queueARN := newQueue(t, cfg, nil)
	plain, transformed := &calls{}, &calls{}
	rule := newRule(t, cfg, bus, `{"source":["test.orders"],"detail-type":["Order Placed"]}`, "",
		EventBridgeTarget{ID: "plain", ARN: functionARN("plain")},
		EventBridgeTarget{ID: "transformed", ARN: functionARN("transformed"), InputTransformer: &InputTransformer{
			InputPathsMap: map[string]string{"order": "$.detail.order", "total": "$.detail.total", "first": "$.resources[0]"},
			InputTemplate: `{"order":<order>,"total":<total>,"text":"order <order> of <total>","rule":<aws.events.rule-name>,"first":<first>}`,
		}},
		EventBridgeTarget{ID: "queue", ARN: queueARN})
	// moto alone cannot deliver a matched event to a Lambda target: it fails PutEvents
	if err := putEvent(t, cfg, bus, "test.orders", "Order Placed", `{"order":"o-1","total":12.5}`); err == nil {
		t.Fatal("moto delivered an event to a Lambda target: has it started invoking functions? The EventBridge driver may no longer be needed")
	}
	receiveAll(t, cfg, queue) // what moto delivered to the queue before failing
	e := newEventBridge(t, cfg, []EventBridgeRule{rule}, map[string]Invoker{functionARN("plain"): plain, functionARN("transformed"): transformed})

	// WHEN a matching event and one that does not match are put, and the driver drains its relays
	if err := putEvent(t, cfg, bus, "test.orders", "Order Placed", `{"order":"o-2","total":7}`); err != nil {
		t.Fatalf("PutEvents of a matched event with the driver's relays: %v", err)
	}
	if err := putEvent(t, cfg, bus, "test.other", "Order Placed", `{"order":"o-3"}`); err != nil {
		t.Fatal(err)
	}
	if err := e.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	// THEN the function got the matching event once, in EventBridge's form and field order
	got := plain.all()
	if len(got) != 1 {
		t.Fatalf("%d invocations of the plain target, want 1", len(got))
	}
	var ev busEvent
	if err := json.Unmarshal(got[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "0" || ev.ID == "" || ev.DetailType != "Order Placed" || ev.Source != "test.orders" || ev.Account != "123456789012" ||
		ev.Region != "us-east-1" || ev.Resources == nil || string(ev.Detail) != `{"order":"o-2","total":7}` {
		t.Errorf("event %s", got[0])
	}
	if at, err := time.Parse(time.RFC3339, ev.Time); err != nil || time.Since(at) > time.Minute {
		t.Errorf("time %q is not the ISO 8601 time of the event (%v)", ev.Time, err)
	}
	order := []string{`"version"`, `"id"`, `"detail-type"`, `"source"`, `"account"`, `"time"`, `"region"`, `"resources"`, `"detail"`}
	for i := 1; i < len(order); i++ {
		if strings.Index(string(got[0]), order[i-1]) > strings.Index(string(got[0]), order[i]) {
			t.Errorf("field %s comes before %s: %s", order[i], order[i-1], got[0])
		}
	}

	// AND the other function got its input transformed from that event
	if tr := transformed.all(); len(tr) != 1 || string(tr[0]) != `{"order":"o-2","total":7,"text":"order o-2 of 7","rule":"`+ruleName(rule)+`","first":null}` {
		t.Errorf("transformed inputs %q", tr)
	}

	// AND the queue, which moto delivers to, got the matching event only
	if bodies := receiveAll(t, cfg, queue); len(bodies) != 1 || !strings.Contains(bodies[0], `"o-2"`) {
		t.Errorf("queue got %q", bodies)
	}
	if s := e.Stats(); s.Events != 2 || s.Invocations != 2 || s.Retries != 0 || s.Failed != 0 {
		t.Errorf("stats %+v, want 2 events relayed and 2 invocations", s)
	}

	// AND delivering the event again (at least once) invokes the functions again with the same event
	if err := e.Deliver(ctx, rule.ARN, got[0]); err != nil {
		t.Fatal(err)
	}
	if again := plain.all(); len(again) != 2 || string(again[1]) != string(got[0]) {
		t.Errorf("redelivery: %q", again)
	}
	if n := len(transformed.all()); n != 2 {
		t.Errorf("redelivery: %d invocations of the transformed target, want 2", n)
	}
}

// ruleName is the name of a rule of the default bus or another.
func ruleName(r EventBridgeRule) string { return r.ARN[strings.LastIndex(r.ARN, "/")+1:] }

func TestEventBridgeGivesUp(t *testing.T) {
	// GIVEN a rule whose function always fails and a rule whose function does not exist, with a dead-letter queue
	cfg := moto.Config(t)
	ctx := context.Background()
	bus := newBus(t, cfg)
	dlq, dlqARN := newQueue(t, cfg, nil)
	failing := &calls{handle: func(int, []byte) ([]byte, error) { return nil, errors.New("boom") }}
	broken := newRule(t, cfg, bus, `{"source":["test.broken"]}`, "", EventBridgeTarget{ID: "f", ARN: functionARN("failing"), DeadLetterARN: dlqARN})
	missing := newRule(t, cfg, bus, `{"source":["test.missing"]}`, "", EventBridgeTarget{ID: "m", ARN: functionARN("missing"), DeadLetterARN: dlqARN})
	e := newEventBridge(t, cfg, []EventBridgeRule{broken, missing}, map[string]Invoker{functionARN("failing"): failing})

	// WHEN an event of each is put and the driver drains
	for _, src := range []string{"test.broken", "test.missing"} {
		if err := putEvent(t, cfg, bus, src, "Thing", `{"n":1}`); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Drain(ctx); err != nil {
		t.Fatal(err)
	}

	// THEN the failing function was invoked once and retried twice, as Lambda retries an asynchronous invocation,
	// and the event given up, not dead-lettered (the target's queue is for events EventBridge cannot deliver)
	if n := len(failing.all()); n != 1+LambdaAsyncRetries {
		t.Errorf("%d invocations of the failing function, want %d", n, 1+LambdaAsyncRetries)
	}
	// AND the event for the missing function went to the dead-letter queue at once, with EventBridge's attributes
	out, err := sqs.NewFromConfig(cfg).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &dlq, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d dead letters, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	attr := func(k string) string { return aws.ToString(m.MessageAttributes[k].StringValue) }
	if !strings.Contains(aws.ToString(m.Body), `"source":"test.missing"`) || attr("RULE_ARN") != missing.ARN || attr("TARGET_ARN") != functionARN("missing") ||
		attr("ERROR_CODE") != "ResourceNotFoundException" || attr("RETRY_ATTEMPTS") != "0" || attr("ERROR_MESSAGE") == "" {
		t.Errorf("dead letter %s %+v", aws.ToString(m.Body), m.MessageAttributes)
	}
	if s := e.Stats(); s.Invocations != 3 || s.Retries != 2 || s.Failed != 2 || s.DeadLettered != 1 {
		t.Errorf("stats %+v", s)
	}
	ds := e.Deliveries()
	if len(ds) != 2 || ds[0].Attempts != 3 || ds[0].Err == nil || ds[0].DeadLettered || ds[1].Attempts != 0 || !ds[1].DeadLettered {
		t.Errorf("deliveries %+v", ds)
	}
}

func TestEventBridgeSchedules(t *testing.T) {
	// GIVEN a schedule rule like the observer's Expect rule (hourly at minute 5, an input transformer of the event's
	// time, to a queue) and a schedule rule with a function target, on the default bus (the only one schedules are on)
	cfg := moto.Config(t)
	ctx := context.Background()
	bus := "default"
	queue, queueARN := newQueue(t, cfg, nil)
	expect := newRule(t, cfg, bus, "", "cron(5 * * * ? *)", EventBridgeTarget{ID: "Target0", ARN: queueARN, InputTransformer: &InputTransformer{
		InputPathsMap: map[string]string{"time": "$.time"}, InputTemplate: `{"expect":{"bucket":"lake","layout":"2006/01/02/15/","prefix":"events/","time":<time>}}`,
	}})
	// moto alone delivers every event put on the bus to a schedule rule, which has no pattern
	if err := putEvent(t, cfg, bus, "test.anything", "Anything", `{}`); err != nil {
		t.Fatal(err)
	}
	if bodies := receiveAll(t, cfg, queue); len(bodies) != 1 {
		t.Errorf("moto delivered %d events put on the bus to the schedule rule's queue (%q), want 1: the emulation of schedules may no longer be needed", len(bodies), bodies)
	}
	purge(t, cfg, queue)
	fn := &calls{}
	weekly := newRule(t, cfg, bus, "", "cron(30 9 ? * MON *)", EventBridgeTarget{ID: "fn", ARN: functionARN("weekly")})
	e := newEventBridge(t, cfg, []EventBridgeRule{expect, weekly}, map[string]Invoker{functionARN("weekly"): fn})

	// WHEN an event is put on the bus, and the driver runs the schedules of a Monday from 08:00 to 10:00
	if err := putEvent(t, cfg, bus, "test.anything", "Anything", `{}`); err != nil {
		t.Fatal(err)
	}
	from := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC) // a Monday
	n, err := e.Schedule(ctx, from, from.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}

	// THEN the hourly rule sent its queue the expectations of 08:05 and 09:05 only, with EventBridge's time text, and
	// the weekly rule invoked its function with the scheduled event of 09:30
	var times []string
	for _, b := range receiveAll(t, cfg, queue) {
		var x struct {
			Expect struct {
				Bucket, Layout, Prefix string
				Time                   time.Time
			}
		}
		if err := json.Unmarshal([]byte(b), &x); err != nil || x.Expect.Bucket != "lake" || x.Expect.Layout != "2006/01/02/15/" {
			t.Errorf("expectation %s: %v", b, err)
		}
		times = append(times, x.Expect.Time.Format("15:04:05"))
	}
	if want := []string{"08:05:00", "09:05:00"}; !reflect.DeepEqual(times, want) || n != 3 {
		t.Errorf("expectations at %v and %d events, want %v and 3", times, n, want)
	}
	got := fn.all()
	if len(got) != 1 {
		t.Fatalf("%d invocations of the weekly function, want 1", len(got))
	}
	var ev busEvent
	json.Unmarshal(got[0], &ev)
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Time != "2024-01-01T09:30:00Z" || !reflect.DeepEqual(ev.Resources, []string{weekly.ARN}) ||
		string(ev.Detail) != "{}" || ev.Account != "123456789012" || ev.ID == "" {
		t.Errorf("scheduled event %s", got[0])
	}
	if s := e.Stats(); s.Scheduled != 3 || s.Sent != 2 || s.Invocations != 1 {
		t.Errorf("stats %+v", s)
	}
}

// purge empties a queue.
func purge(t testing.TB, cfg aws.Config, url string) {
	t.Helper()
	if _, err := sqs.NewFromConfig(cfg).PurgeQueue(context.Background(), &sqs.PurgeQueueInput{QueueUrl: &url}); err != nil {
		t.Fatal(err)
	}
}

func TestEventBridgeTargetInput(t *testing.T) {
	event := []byte(`{"version":"0","id":"e-1","detail-type":"Step Functions Execution Status Change","source":"aws.states","account":"123456789012",` +
		`"time":"2024-01-01T10:00:00Z","region":"us-east-1","resources":["arn:r"],"detail":{"name":"run-1","status":"SUCCEEDED","input":"{\"a\":1}","n":3,"obj":{"k":[1,2]}}}`)
	rule := &busRule{EventBridgeRule: EventBridgeRule{ARN: "arn:aws:events:us-east-1:123456789012:rule/r1"}, name: "r1"}
	now := time.Date(2024, 1, 1, 10, 0, 1, 0, time.UTC)
	for _, c := range []struct {
		name   string
		target EventBridgeTarget
		want   string
	}{
		{"no customization: the event", EventBridgeTarget{}, string(event)},
		{"Input", EventBridgeTarget{Input: `{"fixed":true}`}, `{"fixed":true}`},
		{"InputPath", EventBridgeTarget{InputPath: "$.detail.obj"}, `{"k":[1,2]}`},
		{"InputPath to an index", EventBridgeTarget{InputPath: "$.detail.obj.k[1]"}, `2`},
		{"a JSON object: strings quoted outside strings, inserted inside them; numbers and objects as JSON",
			EventBridgeTarget{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"name": "$.detail.name", "n": "$.detail.n", "obj": "$.detail.obj", "none": "$.detail.none"},
				InputTemplate: `{"name":<name>,"n":<n>,"obj":<obj>,"text":"<name> has \"<n>\" <obj> <none>","none":<none>,"kept":"<other>"}`}},
			`{"name":"run-1","n":3,"obj":{"k":[1,2]},"text":"run-1 has \"3\" {\"k\":[1,2]} ","none":null,"kept":"<other>"}`},
		{"a JSON string (CDK's RuleTargetInput.fromText): values inserted, escaped",
			EventBridgeTarget{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"detail-name": "$.detail.name", "detail-input": "$.detail.input"},
				InputTemplate: `"Run <detail-name> ended. Input: <detail-input>"`}},
			`"Run run-1 ended. Input: {\"a\":1}"`},
		{"a text template: values as text",
			EventBridgeTarget{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"s": "$.detail.status"}, InputTemplate: `run is <s>`}},
			`run is SUCCEEDED`},
		{"predefined variables",
			EventBridgeTarget{InputTransformer: &InputTransformer{InputTemplate: `{"arn":<aws.events.rule-arn>,"name":"<aws.events.rule-name>","at":<aws.events.event.ingestion-time>,"ev":<aws.events.event>}`}},
			`{"arn":"arn:aws:events:us-east-1:123456789012:rule/r1","name":"r1","at":"2024-01-01T10:00:01.000Z","ev":{"account":"123456789012","detail-type":"Step Functions Execution Status Change","id":"e-1","region":"us-east-1","resources":["arn:r"],"source":"aws.states","time":"2024-01-01T10:00:00Z","version":"0"}}`},
	} {
		got, err := c.target.input(event, rule, now)
		if err != nil || string(got) != c.want {
			t.Errorf("%s:\n got %s (%v)\nwant %s", c.name, got, err, c.want)
		}
	}
	for _, bad := range []EventBridgeTarget{
		{InputPath: "$.detail.*"},
		{InputPath: "detail"},
		{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"x": "$..name"}}},
		{InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"aws.events.x": "$.id"}}},
		{Input: "{}", InputPath: "$.detail"},
	} {
		if err := bad.check(); err == nil {
			t.Errorf("target %+v accepted", bad)
		}
	}
	if _, err := (EventBridgeTarget{InputTransformer: &InputTransformer{InputTemplate: `{"a":<aws.events.rule-name}`}}).input(event, rule, now); err == nil {
		t.Error("a template that makes no JSON was accepted")
	}
}

func TestParseSchedule(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		expr     string
		fires    []string
		notFires []string
	}{
		{"cron(5 * * * ? *)", []string{"2024-01-01T00:05:00Z", "2024-06-30T23:05:00Z"}, []string{"2024-01-01T00:06:00Z", "2024-01-01T00:04:00Z"}},
		{"cron(0/15 8-10 ? * MON-FRI *)", []string{"2024-01-01T08:00:00Z", "2024-01-05T10:45:00Z"}, []string{"2024-01-06T08:00:00Z", "2024-01-01T11:00:00Z", "2024-01-01T08:10:00Z"}},
		{"cron(0 12 1 JAN,JUL ? 2030)", []string{"2030-07-01T12:00:00Z"}, []string{"2031-07-01T12:00:00Z", "2030-02-01T12:00:00Z", "2030-07-02T12:00:00Z"}},
		{"cron(30 9 ? * 1 *)", []string{"2024-01-07T09:30:00Z"}, []string{"2024-01-08T09:30:00Z"}}, // 1 is Sunday
	} {
		s, err := parseSchedule(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		for _, f := range c.fires {
			if !s.matches(at(f)) {
				t.Errorf("%s does not fire at %s", c.expr, f)
			}
		}
		for _, f := range c.notFires {
			if s.matches(at(f)) {
				t.Errorf("%s fires at %s", c.expr, f)
			}
		}
	}
	for _, bad := range []string{"rate(5 minutes)", "cron(5 * * * *)", "cron(5 * * * * *)", "cron(5 * ? * ? *)", "cron(0 0 L * ? *)",
		"cron(0 0 ? * 6#3 *)", "cron(0 0 1W * ? *)", "cron(60 * * * ? *)", "cron(0 22-2 * * ? *)"} {
		if _, err := parseSchedule(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestEventBridgeRuleFrom(t *testing.T) {
	// The blueprint's DataSetReady rule and Expect rule as cfn resolves them.
	ready, err := EventBridgeRuleFrom(map[string]any{
		"Description": "DataSetReady: start processing", "EventBusName": "default", "State": "ENABLED",
		"EventPattern": map[string]any{"detail-type": []any{"DataSetReady"}, "source": []any{"eventlake.observer"}},
		"Targets": []any{map[string]any{
			"Arn": functionARN("starter"), "Id": "Target0",
			"DeadLetterConfig": map[string]any{"Arn": "arn:aws:sqs:us-east-1:123456789012:undelivered"},
			"RetryPolicy":      map[string]any{"MaximumEventAgeInSeconds": json.Number("86400"), "MaximumRetryAttempts": json.Number("10")},
		}},
	})
	want := EventBridgeRule{State: "ENABLED", EventPattern: `{"detail-type":["DataSetReady"],"source":["eventlake.observer"]}`, Targets: []EventBridgeTarget{{
		ID: "Target0", ARN: functionARN("starter"), MaximumRetryAttempts: 10, MaximumEventAge: 24 * time.Hour, DeadLetterARN: "arn:aws:sqs:us-east-1:123456789012:undelivered",
	}}}
	if err != nil || !reflect.DeepEqual(ready, want) {
		t.Errorf("DataSetReady rule %+v (%v), want %+v", ready, err, want)
	}
	expect, err := EventBridgeRuleFrom(map[string]any{
		"ScheduleExpression": "cron(5 * * * ? *)", "State": "ENABLED",
		"Targets": []any{map[string]any{
			"Arn": "arn:aws:sqs:us-east-1:123456789012:objects", "Id": "Target0",
			"InputTransformer": map[string]any{"InputPathsMap": map[string]any{"time": "$.time"}, "InputTemplate": `{"expect":{"time":<time>}}`},
		}},
	})
	want = EventBridgeRule{State: "ENABLED", ScheduleExpression: "cron(5 * * * ? *)", Targets: []EventBridgeTarget{{
		ID: "Target0", ARN: "arn:aws:sqs:us-east-1:123456789012:objects", MaximumRetryAttempts: DefaultEventBridgeRetryAttempts, MaximumEventAge: DefaultEventBridgeMaximumEventAge,
		InputTransformer: &InputTransformer{InputPathsMap: map[string]string{"time": "$.time"}, InputTemplate: `{"expect":{"time":<time>}}`},
	}}}
	if err != nil || !reflect.DeepEqual(expect, want) {
		t.Errorf("Expect rule %+v (%v), want %+v", expect, err, want)
	}
	if _, err := EventBridgeRuleFrom(map[string]any{"Targets": []any{"not a target"}}); err == nil {
		t.Error("a target that is not an object was accepted")
	}
	if _, err := NewEventBridge(context.Background(), aws.Config{}, []EventBridgeRule{{ARN: "arn:aws:events:us-east-1:1:rule/r", EventPattern: "{}",
		Targets: []EventBridgeTarget{{ID: "sfn", ARN: "arn:aws:states:us-east-1:1:stateMachine:m"}}}}, nil); err == nil {
		t.Error("a Step Functions target was accepted")
	}
}
