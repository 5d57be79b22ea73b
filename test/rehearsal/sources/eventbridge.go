package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// LambdaAsyncRetries is how many times Lambda retries an asynchronous invocation whose function failed: its default
// MaximumRetryAttempts when the function has no EventInvokeConfig.
const LambdaAsyncRetries = 2

// EventBridge's defaults for a target's RetryPolicy.
const (
	DefaultEventBridgeRetryAttempts   = 185
	DefaultEventBridgeMaximumEventAge = 24 * time.Hour
)

// EventBridgeRule is an EventBridge rule as the EventBridge driver emulates it. Make it with EventBridgeRuleFrom,
// then set ARN, or by hand.
type EventBridgeRule struct {
	// ARN is the rule's ARN (Fn::GetAtt Arn): arn:…:rule/<name> on the default bus, arn:…:rule/<bus>/<name> on
	// another. The driver reads the rule's name, bus, region and account from it. Required.
	ARN string
	// EventPattern is the rule's event pattern, as JSON: moto matches it. Empty for a schedule rule.
	EventPattern string
	// ScheduleExpression is a schedule rule's cron(…) expression; rate(…) is not emulated.
	ScheduleExpression string
	// State is ENABLED (also when empty) or DISABLED.
	State string
	// Targets are the rule's targets.
	Targets []EventBridgeTarget
}

// EventBridgeTarget is a target of a rule.
type EventBridgeTarget struct {
	// ID is the target's id in its rule.
	ID string
	// ARN is what the target delivers to: a Lambda function, an SQS queue or an SNS topic.
	ARN string
	// Input, InputPath and InputTransformer customize what the target gets instead of the event (at most one).
	Input, InputPath string
	InputTransformer *InputTransformer
	// MaximumRetryAttempts and MaximumEventAge are the target's RetryPolicy, defaults filled in. Read, not used:
	// nothing the driver delivers to fails in a way EventBridge retries (see EventBridge).
	MaximumRetryAttempts int
	MaximumEventAge      time.Duration
	// DeadLetterARN is the target's dead-letter queue (DeadLetterConfig.Arn), "" for none.
	DeadLetterARN string
}

// InputTransformer is a target's InputTransformer.
type InputTransformer struct {
	// InputPathsMap names values of the event by JSON path ($.detail.name, $.resources[0]).
	InputPathsMap map[string]string
	// InputTemplate is what the target gets, with <name> placeholders for those values and the predefined variables.
	InputTemplate string
}

// EventBridgeRuleFrom reads the resolved properties (cfn.Deployment.Properties) of an AWS::Events::Rule. Set the
// rule's ARN (cfn.Deployment.Attr of "Arn") before making a driver of it.
func EventBridgeRuleFrom(m map[string]any) (EventBridgeRule, error) {
	p := &props{m: m, what: "AWS::Events::Rule"}
	r := EventBridgeRule{ScheduleExpression: p.str("ScheduleExpression"), State: p.str("State")}
	if v, ok := m["EventPattern"]; ok && v != nil {
		if s, isStr := v.(string); isStr {
			r.EventPattern = s
		} else {
			b, err := json.Marshal(v)
			if err != nil {
				return r, fmt.Errorf("AWS::Events::Rule property EventPattern: %w", err)
			}
			r.EventPattern = string(b)
		}
	}
	for i, it := range p.list("Targets") {
		tp := p.child("Targets", i, it)
		if tp == nil {
			break
		}
		t := EventBridgeTarget{ID: tp.str("Id"), ARN: tp.str("Arn"), Input: tp.str("Input"), InputPath: tp.str("InputPath"),
			MaximumRetryAttempts: DefaultEventBridgeRetryAttempts, MaximumEventAge: DefaultEventBridgeMaximumEventAge}
		if it := tp.obj("InputTransformer"); it != nil {
			t.InputTransformer = &InputTransformer{InputTemplate: it.str("InputTemplate"), InputPathsMap: map[string]string{}}
			if pm := it.obj("InputPathsMap"); pm != nil {
				for k := range pm.m {
					t.InputTransformer.InputPathsMap[k] = pm.str(k)
				}
				it.err = firstError(it.err, pm.err)
			}
			tp.err = firstError(tp.err, it.err)
		}
		if rp := tp.obj("RetryPolicy"); rp != nil {
			t.MaximumRetryAttempts = rp.integer("MaximumRetryAttempts", DefaultEventBridgeRetryAttempts)
			t.MaximumEventAge = time.Duration(rp.integer("MaximumEventAgeInSeconds", int(DefaultEventBridgeMaximumEventAge/time.Second))) * time.Second
			tp.err = firstError(tp.err, rp.err)
		}
		if dl := tp.obj("DeadLetterConfig"); dl != nil {
			t.DeadLetterARN = dl.str("Arn")
			tp.err = firstError(tp.err, dl.err)
		}
		p.err = firstError(p.err, tp.err)
		r.Targets = append(r.Targets, t)
	}
	return r, p.err
}

func firstError(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// EventBridge emulates what moto's EventBridge does not do for the rules of a rehearsal: delivering events to Lambda
// functions and SNS topics, transforming a target's input as EventBridge does, and running schedules.
//
// moto delivers a matched event to SQS queues (and a few other targets) itself, but fails PutEvents with
// NotImplementedError when a matched rule has a Lambda or SNS target; it applies an InputTransformer with the event's
// time as epoch seconds instead of EventBridge's ISO 8601 text, and ignores Input and InputPath; it delivers every
// event put on a bus to each of its schedule rules, which have no pattern (and S3's events, which it sends to the
// rules of every bus, to every schedule rule); and it never runs a schedule. So, when the driver is made, for each
// rule:
//
//   - a rule with an event pattern keeps the targets moto delivers right (SQS queues without Input, InputPath or
//     InputTransformer); each of its other targets is replaced, in moto, by a relay: an SQS queue of the driver's
//     with the same target id, which moto delivers the matched event to. Drain receives the relays' events and
//     delivers each to its target as EventBridge would: the event in EventBridge's form (version, id, detail-type,
//     source, account, time, region, resources, detail, in that order; the account, which moto leaves out of a
//     PutEvents event, is the rule's), its input customized as the target says, to a Lambda function through the
//     Invoker the driver finds for its ARN, to an SQS queue (SendMessage) or to an SNS topic (Publish);
//   - a schedule rule (cron) loses its targets in moto, so that it gets no event it would not get in AWS. Schedule
//     sends its targets the events EventBridge would send at each time the cron names: detail-type "Scheduled
//     Event", source aws.events, the time of the schedule, the rule's ARN as resource and an empty detail;
//   - a disabled rule loses its targets in moto (moto delivers to disabled rules) and gets nothing delivered.
//
// Deliver hands an event to the targets of a rule as if it had matched: a test's redelivery of an event EventBridge
// delivers at least once, or a schedule's event.
//
// Input: Input is sent as it is; InputPath sends the JSON value at the path; InputTransformer fills the template's
// placeholders with the values at its paths and the predefined variables aws.events.rule-arn,
// aws.events.rule-name, aws.events.event.ingestion-time (the driver's clock, WithClock), aws.events.event (the event
// without its detail) and aws.events.event.json (the whole event). In a JSON template (one that starts with "{", "["
// or a quote) a placeholder outside a string becomes the value's JSON (a string quoted), a placeholder inside a
// string the value's text (escaped for the string); in a text template every value is inserted as its text. A path
// that matches nothing gives null outside a string and nothing inside one (EventBridge does not document it). The
// paths are dot notation with array indices; wildcards are refused.
//
// Lambda targets are invoked as EventBridge's asynchronous invocation is run by Lambda: one invocation at a time,
// and a failed invocation (the function's error, a crash or a timeout) retried LambdaAsyncRetries times at once,
// not after Lambda's back-off of a minute and more; then the event is given up (counted and logged: a function's
// own on-failure destination or DLQ is not emulated). A function the driver cannot find (the Invoker lookup answers
// nil), as EventBridge finds when it may not invoke it or it does not exist, is not retried: the event goes to the
// target's dead-letter queue with EventBridge's message attributes RULE_ARN, TARGET_ARN, ERROR_CODE
// (ResourceNotFoundException), ERROR_MESSAGE and RETRY_ATTEMPTS, or is dropped when there is none.
//
// What it does not emulate: the retry policy (nothing the driver reaches throttles or fails as a service would; the
// 24-hour, 185-attempt window is never waited for), the Lambda permission (AWS::Lambda::Permission) EventBridge
// needs to invoke a function, event pattern matching (moto's), rate(…) schedules and the cron features L, W and #,
// targets other than Lambda functions, SQS queues and SNS topics (Step Functions, Kinesis, API destinations…),
// SqsParameters (FIFO message groups), archives and replays, fields of an event beyond the nine above, and the bus
// S3 sends its events to (the default bus in AWS; every bus in moto, whose rules match them by pattern).
//
// Drain, Deliver and Schedule are not safe for concurrent use; Stats and Deliveries may be called at any time.
type EventBridge struct {
	eb        *eventbridge.Client
	sq        *sqs.Client
	sn        *sns.Client
	functions func(functionARN string) Invoker
	o         options
	rules     []*busRule
	relays    []*relay
	queueURLs map[string]string // queue ARN → URL

	mu         sync.Mutex
	stats      EventBridgeStats
	deliveries []EventBridgeDelivery
}

// EventBridgeStats counts what an EventBridge driver did.
type EventBridgeStats struct {
	// Events is how many events the driver handed to rules: received from relays, scheduled, or given to Deliver.
	Events int
	// Scheduled is how many of them Schedule made.
	Scheduled int
	// Invocations is how many times a Lambda target was invoked, Retries how many of those were retries.
	Invocations, Retries int
	// Sent is how many events went to SQS and SNS targets.
	Sent int
	// Failed is how many deliveries were given up: a function that failed every attempt, or a target not found.
	Failed int
	// DeadLettered is how many of those went to a dead-letter queue.
	DeadLettered int
}

// EventBridgeDelivery is one event delivered (or given up) to one target.
type EventBridgeDelivery struct {
	// Rule and Target are the ARNs of the rule and of the target.
	Rule, Target string
	// Event is the event, in EventBridge's form.
	Event json.RawMessage
	// Input is what the target got: the event, or its input as the target customizes it.
	Input []byte
	// Attempts is how many times a Lambda target was invoked (1 for other targets).
	Attempts int
	// Err is why the delivery was given up; nil when it succeeded.
	Err error
	// DeadLettered reports that the event went to the target's dead-letter queue.
	DeadLettered bool
}

// busRule is a rule the driver handles.
type busRule struct {
	EventBridgeRule
	name, bus, region, account string
	schedule                   *cronSchedule
	enabled                    bool
}

// relay is an SQS queue of the driver's standing in moto for a target moto cannot deliver to.
type relay struct {
	rule     *busRule
	target   EventBridgeTarget
	queueURL string
}

// NewEventBridge makes an EventBridge driver of rules (materialized in moto at cfg's endpoint), which invokes the
// Lambda functions that functions finds by their ARN; for a function it does not know, functions returns a nil
// Invoker (not a nil pointer in an Invoker). It rewires the rules' targets in moto as EventBridge describes.
func NewEventBridge(ctx context.Context, cfg aws.Config, rules []EventBridgeRule, functions func(functionARN string) Invoker, opts ...Option) (*EventBridge, error) {
	if functions == nil {
		functions = func(string) Invoker { return nil }
	}
	e := &EventBridge{eb: eventbridge.NewFromConfig(cfg), sq: sqs.NewFromConfig(cfg), sn: sns.NewFromConfig(cfg), functions: functions,
		o: newOptions(opts), queueURLs: map[string]string{}}
	for _, r := range rules {
		br, err := newBusRule(r)
		if err != nil {
			return nil, fmt.Errorf("EventBridge driver: %w", err)
		}
		e.rules = append(e.rules, br)
		if err := e.rewire(ctx, br); err != nil {
			return nil, fmt.Errorf("EventBridge driver: rule %s: %w", br.ARN, err)
		}
	}
	return e, nil
}

var ruleResource = regexp.MustCompile(`^rule/(?:([^/]+)/)?([^/]+)$`)

func newBusRule(r EventBridgeRule) (*busRule, error) {
	a, err := arn.Parse(r.ARN)
	m := ruleResource.FindStringSubmatch(a.Resource)
	if err != nil || a.Service != "events" || m == nil {
		return nil, fmt.Errorf("%q is not an EventBridge rule ARN", r.ARN)
	}
	br := &busRule{EventBridgeRule: r, name: m[2], bus: m[1], region: a.Region, account: a.AccountID}
	switch r.State {
	case "", "ENABLED":
		br.enabled = true
	case "DISABLED":
	default:
		return nil, fmt.Errorf("rule %s: State %s is not emulated", r.ARN, r.State)
	}
	if (r.ScheduleExpression == "") == (r.EventPattern == "") {
		return nil, fmt.Errorf("rule %s: a rule has an event pattern or a schedule expression, not both or neither", r.ARN)
	}
	if r.ScheduleExpression != "" {
		if br.schedule, err = parseSchedule(r.ScheduleExpression); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ARN, err)
		}
	}
	for _, t := range r.Targets {
		switch targetService(t.ARN) {
		case "lambda", "sqs", "sns":
		default:
			return nil, fmt.Errorf("rule %s: target %s (%s) is not a Lambda function, SQS queue or SNS topic: not emulated", r.ARN, t.ID, t.ARN)
		}
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("rule %s: target %s: %w", r.ARN, t.ID, err)
		}
	}
	return br, nil
}

func targetService(targetARN string) string {
	a, err := arn.Parse(targetARN)
	if err != nil {
		return ""
	}
	return a.Service
}

// check refuses input customizations the driver cannot apply.
func (t EventBridgeTarget) check() error {
	n := 0
	for _, set := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("Input, InputPath and InputTransformer are exclusive")
	}
	if t.InputPath != "" {
		if _, err := parsePath(t.InputPath); err != nil {
			return fmt.Errorf("InputPath: %w", err)
		}
	}
	if t.InputTransformer != nil {
		for name, p := range t.InputTransformer.InputPathsMap {
			if strings.HasPrefix(strings.ToLower(name), "aws.") {
				return fmt.Errorf("InputPathsMap: %s is a reserved name", name)
			}
			if _, err := parsePath(p); err != nil {
				return fmt.Errorf("InputPathsMap %s: %w", name, err)
			}
		}
	}
	return nil
}

// motoDelivers reports whether moto delivers an event to the target as EventBridge would.
func (t EventBridgeTarget) motoDelivers() bool {
	return targetService(t.ARN) == "sqs" && t.Input == "" && t.InputPath == "" && t.InputTransformer == nil
}

// rewire takes from moto the targets the driver delivers to.
func (e *EventBridge) rewire(ctx context.Context, r *busRule) error {
	var bus *string
	if r.bus != "" {
		bus = aws.String(r.bus)
	}
	var remove []string
	for _, t := range r.Targets {
		switch {
		case !r.enabled || r.schedule != nil:
			remove = append(remove, t.ID)
		case !t.motoDelivers():
			url, queueARN, err := e.newRelayQueue(ctx, r, t)
			if err != nil {
				return err
			}
			out, err := e.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.name), EventBusName: bus,
				Targets: []ebtypes.Target{{Id: aws.String(t.ID), Arn: aws.String(queueARN)}}})
			if err == nil && out.FailedEntryCount > 0 {
				err = fmt.Errorf("%s", aws.ToString(out.FailedEntries[0].ErrorMessage))
			}
			if err != nil {
				return fmt.Errorf("PutTargets (the relay of target %s): %w", t.ID, err)
			}
			e.relays = append(e.relays, &relay{rule: r, target: t, queueURL: url})
			e.o.logf("EventBridge: rule %s: target %s (%s) relayed through %s", r.name, t.ID, t.ARN, queueARN)
		}
	}
	if len(remove) > 0 {
		if _, err := e.eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(r.name), EventBusName: bus, Ids: remove}); err != nil {
			return fmt.Errorf("RemoveTargets %v: %w", remove, err)
		}
		e.o.logf("EventBridge: rule %s: targets %v removed from moto (schedule %q, enabled %v)", r.name, remove, r.ScheduleExpression, r.enabled)
	}
	return nil
}

var unsafeQueueChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func (e *EventBridge) newRelayQueue(ctx context.Context, r *busRule, t EventBridgeTarget) (url, queueARN string, err error) {
	part := func(s string, n int) string {
		s = unsafeQueueChars.ReplaceAllString(s, "-")
		if len(s) > n {
			s = s[:n]
		}
		return s
	}
	name := fmt.Sprintf("eb-relay-%s-%s-%s", part(r.name, 40), part(t.ID, 16), newUUID()[:8])
	out, err := e.sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		return "", "", fmt.Errorf("CreateQueue %s: %w", name, err)
	}
	attrs, err := e.sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("GetQueueAttributes %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

// Stats returns what the driver has done so far.
func (e *EventBridge) Stats() EventBridgeStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Deliveries returns the deliveries made so far, in order.
func (e *EventBridge) Deliveries() []EventBridgeDelivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.deliveries)
}

func (e *EventBridge) count(f func(*EventBridgeStats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

// Drain delivers the events moto has relayed until the relays are empty. It returns the first error of moto, of an
// event it cannot read or a target input it cannot make, or the context's; a function that fails is not an error
// (see EventBridge).
func (e *EventBridge) Drain(ctx context.Context) error {
	for {
		got := 0
		for _, rl := range e.relays {
			out, err := e.sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &rl.queueURL, MaxNumberOfMessages: 10, VisibilityTimeout: 300})
			if err != nil {
				return fmt.Errorf("EventBridge driver: ReceiveMessage (relay of rule %s): %w", rl.rule.name, err)
			}
			for _, m := range out.Messages {
				ev, err := rl.rule.normalize([]byte(aws.ToString(m.Body)))
				if err != nil {
					return fmt.Errorf("EventBridge driver: rule %s: an event moto relayed: %w", rl.rule.name, err)
				}
				e.count(func(s *EventBridgeStats) { s.Events++ })
				if err := e.deliver(ctx, rl.rule, rl.target, ev); err != nil {
					return err
				}
				if _, err := e.sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &rl.queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
					return fmt.Errorf("EventBridge driver: DeleteMessage (relay of rule %s): %w", rl.rule.name, err)
				}
			}
			got += len(out.Messages)
		}
		if got == 0 {
			return nil
		}
	}
}

// Deliver hands event (an EventBridge event, as JSON) to every target of a rule (named by its ARN or name) as if it
// had matched, whatever its pattern: what EventBridge does again when it delivers an event twice. A disabled rule
// gets nothing.
func (e *EventBridge) Deliver(ctx context.Context, rule string, event []byte) error {
	r := e.rule(rule)
	if r == nil {
		return fmt.Errorf("EventBridge driver: no rule %s", rule)
	}
	ev, err := r.normalize(event)
	if err != nil {
		return fmt.Errorf("EventBridge driver: rule %s: %w", r.name, err)
	}
	if !r.enabled {
		return nil
	}
	e.count(func(s *EventBridgeStats) { s.Events++ })
	for _, t := range r.Targets {
		if err := e.deliver(ctx, r, t, ev); err != nil {
			return err
		}
	}
	return nil
}

func (e *EventBridge) rule(nameOrARN string) *busRule {
	for _, r := range e.rules {
		if r.ARN == nameOrARN || r.name == nameOrARN {
			return r
		}
	}
	return nil
}

// Schedule sends the events of every enabled schedule rule whose cron names a time (a minute) in [from, to), in
// time order, to the rule's targets, and returns how many events it sent.
func (e *EventBridge) Schedule(ctx context.Context, from, to time.Time) (int, error) {
	n := 0
	start := from.UTC().Truncate(time.Minute)
	if start.Before(from) {
		start = start.Add(time.Minute)
	}
	for at := start; at.Before(to); at = at.Add(time.Minute) {
		for _, r := range e.rules {
			if r.schedule == nil || !r.enabled || !r.schedule.matches(at) {
				continue
			}
			ev, err := json.Marshal(busEvent{Version: "0", ID: newUUID(), DetailType: "Scheduled Event", Source: "aws.events", Account: r.account,
				Time: at.Format(time.RFC3339), Region: r.region, Resources: []string{r.ARN}, Detail: json.RawMessage("{}")})
			if err != nil {
				return n, err
			}
			e.count(func(s *EventBridgeStats) { s.Events++; s.Scheduled++ })
			e.o.logf("EventBridge: rule %s: scheduled event at %s", r.name, at.Format(time.RFC3339))
			for _, t := range r.Targets {
				if err := e.deliver(ctx, r, t, ev); err != nil {
					return n, err
				}
			}
			n++
		}
	}
	return n, nil
}

// busEvent is an event in the form, and field order, EventBridge delivers it.
type busEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// normalize puts an event in EventBridge's form: the rule's account and region when it has none, version 0, an
// empty list of resources and an empty detail when absent, and a time in epoch seconds (moto's) as ISO 8601.
func (r *busRule) normalize(body []byte) ([]byte, error) {
	var in struct {
		busEvent
		Time json.RawMessage `json:"time"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, fmt.Errorf("not an event: %w: %.200s", err, body)
	}
	ev := in.busEvent
	if ev.ID == "" || ev.DetailType == "" || ev.Source == "" {
		return nil, fmt.Errorf("an event has an id, a detail-type and a source: %.200s", body)
	}
	switch t := strings.TrimSpace(string(in.Time)); {
	case strings.HasPrefix(t, `"`):
		json.Unmarshal(in.Time, &ev.Time)
	case t != "" && t != "null":
		secs, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("time %s: %w", t, err)
		}
		ev.Time = time.Unix(int64(secs), 0).UTC().Format(time.RFC3339)
	}
	if ev.Version == "" {
		ev.Version = "0"
	}
	if ev.Account == "" {
		ev.Account = r.account
	}
	if ev.Region == "" {
		ev.Region = r.region
	}
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	if len(ev.Detail) == 0 || string(ev.Detail) == "null" {
		ev.Detail = json.RawMessage("{}")
	}
	return json.Marshal(ev)
}

// deliver hands one event to one target. It returns only errors of moto, of the input, and the context's.
func (e *EventBridge) deliver(ctx context.Context, r *busRule, t EventBridgeTarget, event []byte) error {
	input, err := t.input(event, r, e.o.now())
	if err != nil {
		return fmt.Errorf("EventBridge driver: rule %s, target %s: %w", r.name, t.ID, err)
	}
	d := EventBridgeDelivery{Rule: r.ARN, Target: t.ARN, Event: event, Input: input, Attempts: 1}
	switch targetService(t.ARN) {
	case "lambda":
		fn := e.functions(t.ARN)
		if fn == nil {
			return e.undeliverable(ctx, r, t, d, "ResourceNotFoundException", "Function not found: "+t.ARN)
		}
		for d.Attempts = 1; ; d.Attempts++ {
			e.count(func(s *EventBridgeStats) {
				s.Invocations++
				if d.Attempts > 1 {
					s.Retries++
				}
			})
			_, err := fn.Invoke(ctx, input)
			if err == nil {
				d.Err = nil
				break
			}
			if isContextError(ctx, err) {
				return err
			}
			d.Err = err
			e.o.logf("EventBridge: rule %s: %s failed (attempt %d of %d): %v", r.name, t.ARN, d.Attempts, 1+LambdaAsyncRetries, err)
			if d.Attempts > LambdaAsyncRetries {
				e.count(func(s *EventBridgeStats) { s.Failed++ })
				break
			}
		}
	case "sqs":
		url, err := e.queueURL(ctx, t.ARN)
		if err == nil {
			_, err = e.sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(input))})
		}
		if err != nil {
			return fmt.Errorf("EventBridge driver: rule %s, target %s: SendMessage: %w", r.name, t.ID, err)
		}
		e.count(func(s *EventBridgeStats) { s.Sent++ })
	case "sns":
		if _, err := e.sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(t.ARN), Message: aws.String(string(input))}); err != nil {
			return fmt.Errorf("EventBridge driver: rule %s, target %s: Publish: %w", r.name, t.ID, err)
		}
		e.count(func(s *EventBridgeStats) { s.Sent++ })
	}
	if d.Err != nil {
		e.o.logf("EventBridge: rule %s: gave up %s after %d attempts: %v", r.name, t.ARN, d.Attempts, d.Err)
	} else {
		e.o.logf("EventBridge: rule %s: delivered to %s (%d attempts): %.300s", r.name, t.ARN, d.Attempts, input)
	}
	e.record(d)
	return nil
}

func (e *EventBridge) record(d EventBridgeDelivery) {
	e.mu.Lock()
	e.deliveries = append(e.deliveries, d)
	e.mu.Unlock()
}

// undeliverable gives up an event EventBridge cannot deliver to a target: to the target's dead-letter queue, with
// EventBridge's message attributes, or dropped.
func (e *EventBridge) undeliverable(ctx context.Context, r *busRule, t EventBridgeTarget, d EventBridgeDelivery, code, msg string) error {
	d.Attempts, d.Err = 0, fmt.Errorf("%s: %s", code, msg)
	e.count(func(s *EventBridgeStats) { s.Failed++ })
	e.o.logf("EventBridge: rule %s: cannot deliver to %s: %v (dead-letter queue %q)", r.name, t.ARN, d.Err, t.DeadLetterARN)
	if t.DeadLetterARN != "" {
		url, err := e.queueURL(ctx, t.DeadLetterARN)
		if err == nil {
			str := func(v string) sqstypes.MessageAttributeValue {
				return sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
			}
			_, err = e.sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(d.Event)),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{
					"RULE_ARN": str(r.ARN), "TARGET_ARN": str(t.ARN), "ERROR_CODE": str(code), "ERROR_MESSAGE": str(msg),
					"RETRY_ATTEMPTS": {DataType: aws.String("Number"), StringValue: aws.String("0")},
				}})
		}
		if err != nil {
			return fmt.Errorf("EventBridge driver: rule %s, target %s: dead-letter queue %s: %w", r.name, t.ID, t.DeadLetterARN, err)
		}
		d.DeadLettered = true
		e.count(func(s *EventBridgeStats) { s.DeadLettered++ })
	}
	e.record(d)
	return nil
}

func (e *EventBridge) queueURL(ctx context.Context, queueARN string) (string, error) {
	if url, ok := e.queueURLs[queueARN]; ok {
		return url, nil
	}
	a, err := arn.Parse(queueARN)
	if err != nil {
		return "", fmt.Errorf("%q is not a queue ARN", queueARN)
	}
	out, err := e.sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource), QueueOwnerAWSAccountId: aws.String(a.AccountID)})
	if err != nil {
		return "", fmt.Errorf("GetQueueUrl %s: %w", queueARN, err)
	}
	e.queueURLs[queueARN] = aws.ToString(out.QueueUrl)
	return e.queueURLs[queueARN], nil
}

// input is what the target gets for event (in EventBridge's form): the event, or the input the target makes of it.
func (t EventBridgeTarget) input(event []byte, r *busRule, now time.Time) ([]byte, error) {
	switch {
	case t.Input != "":
		return []byte(t.Input), nil
	case t.InputPath != "":
		doc, err := decodeEvent(event)
		if err != nil {
			return nil, err
		}
		p, _ := parsePath(t.InputPath)
		v, ok := p.find(doc)
		if !ok {
			return []byte("null"), nil
		}
		return json.Marshal(v)
	case t.InputTransformer != nil:
		return t.InputTransformer.apply(event, r.ARN, r.name, now)
	}
	return event, nil
}

func decodeEvent(event []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("event %.200s: %w", event, err)
	}
	return doc, nil
}

// apply fills the template's placeholders for event (see EventBridge for the rules).
func (it *InputTransformer) apply(event []byte, ruleARN, ruleName string, now time.Time) ([]byte, error) {
	doc, err := decodeEvent(event)
	if err != nil {
		return nil, err
	}
	values := map[string]any{}
	for name, path := range it.InputPathsMap {
		p, err := parsePath(path)
		if err != nil {
			return nil, fmt.Errorf("InputPathsMap %s: %w", name, err)
		}
		if v, ok := p.find(doc); ok {
			values[name] = v
		}
	}
	raw := map[string]json.RawMessage{} // predefined variables whose JSON is inserted as it is
	values["aws.events.rule-arn"] = ruleARN
	values["aws.events.rule-name"] = ruleName
	values["aws.events.event.ingestion-time"] = now.UTC().Format("2006-01-02T15:04:05.000Z")
	raw["aws.events.event.json"] = event
	if m, ok := doc.(map[string]any); ok {
		noDetail := map[string]any{}
		for k, v := range m {
			if k != "detail" {
				noDetail[k] = v
			}
		}
		b, err := json.Marshal(noDetail)
		if err != nil {
			return nil, err
		}
		raw["aws.events.event"] = b
	}
	tmpl := it.InputTemplate
	trimmed := strings.TrimSpace(tmpl)
	isJSON := strings.HasPrefix(trimmed, "{") || strings.HasPrefix(trimmed, "[") || strings.HasPrefix(trimmed, `"`)
	var out strings.Builder
	inString := false
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && inString && i+1 < len(tmpl):
			out.WriteByte(c)
			out.WriteByte(tmpl[i+1])
			i++
			continue
		case c == '"' && isJSON:
			inString = !inString
		case c == '<':
			end := strings.IndexByte(tmpl[i:], '>')
			if end < 0 {
				break
			}
			name := tmpl[i+1 : i+end]
			v, known := values[name]
			r, isRaw := raw[name]
			_, mapped := it.InputPathsMap[name]
			if !known && !isRaw && !mapped {
				break // not a placeholder: the text stays
			}
			switch {
			case isRaw:
				out.Write(r)
			case !known && inString:
			case !known:
				out.WriteString("null")
			default:
				s, err := placeholderText(v, isJSON, inString)
				if err != nil {
					return nil, fmt.Errorf("InputTemplate <%s>: %w", name, err)
				}
				out.WriteString(s)
			}
			i += end
			continue
		}
		out.WriteByte(c)
	}
	b := []byte(out.String())
	if isJSON && !json.Valid(b) {
		return nil, fmt.Errorf("InputTemplate %q makes %q, which is not JSON", tmpl, b)
	}
	return b, nil
}

// placeholderText is a value as a placeholder inserts it.
func placeholderText(v any, isJSON, inString bool) (string, error) {
	s, isStr := v.(string)
	if !isStr {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		s = string(b)
	}
	switch {
	case inString:
		q, _ := json.Marshal(s)
		return string(q[1 : len(q)-1]), nil
	case isJSON && isStr:
		q, err := json.Marshal(s)
		return string(q), err
	}
	return s, nil
}

// jsonPath is a JSON path of EventBridge's: $ followed by .name and [index] steps.
type jsonPath []any // string: a member; int: an index

var pathStep = regexp.MustCompile(`^(?:\.([A-Za-z0-9_\-/@:]+)|\[(\d+)\])`)

func parsePath(p string) (jsonPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("path %q does not start with $", p)
	}
	var out jsonPath
	rest := p[1:]
	for rest != "" {
		m := pathStep.FindStringSubmatch(rest)
		if m == nil {
			return nil, fmt.Errorf("path %q: %q is not emulated (dot notation and array indices only)", p, rest)
		}
		if m[1] != "" {
			out = append(out, m[1])
		} else {
			n, _ := strconv.Atoi(m[2])
			out = append(out, n)
		}
		rest = rest[len(m[0]):]
	}
	return out, nil
}

func (p jsonPath) find(doc any) (any, bool) {
	v := doc
	for _, step := range p {
		switch s := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[s]; !ok {
				return nil, false
			}
		case int:
			l, ok := v.([]any)
			if !ok || s >= len(l) {
				return nil, false
			}
			v = l[s]
		}
	}
	return v, true
}

// cronSchedule is an EventBridge cron expression: minutes, hours, day of month, month, day of week (1 is Sunday)
// and year, in UTC.
type cronSchedule struct {
	expr                                    string
	minutes, hours, doms, months, dows, yrs map[int]bool
	anyDOM, anyDOW                          bool // the field is "?"
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames   = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

// parseSchedule reads a cron(…) schedule expression. rate(…) and the wildcards L, W and # are not emulated.
func parseSchedule(expr string) (*cronSchedule, error) {
	body, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(body, ")") {
		return nil, fmt.Errorf("schedule %q: only cron(…) expressions are emulated", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(body, ")"))
	if len(fields) != 6 {
		return nil, fmt.Errorf("schedule %q: a cron expression has 6 fields", expr)
	}
	c := &cronSchedule{expr: expr, anyDOM: fields[2] == "?", anyDOW: fields[4] == "?"}
	if c.anyDOM == c.anyDOW {
		return nil, fmt.Errorf("schedule %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	specs := []struct {
		dst      *map[int]bool
		lo, hi   int
		names    map[string]int
		optional bool
	}{{&c.minutes, 0, 59, nil, false}, {&c.hours, 0, 23, nil, false}, {&c.doms, 1, 31, nil, true}, {&c.months, 1, 12, monthNames, false},
		{&c.dows, 1, 7, dayNames, true}, {&c.yrs, 1970, 2199, nil, false}}
	for i, s := range specs {
		if s.optional && fields[i] == "?" {
			continue
		}
		set, err := cronField(fields[i], s.lo, s.hi, s.names)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: field %d: %w", expr, i+1, err)
		}
		*s.dst = set
	}
	return c, nil
}

func cronField(f string, lo, hi int, names map[string]int) (map[int]bool, error) {
	num := func(s string) (int, error) {
		if n, ok := names[strings.ToUpper(s)]; ok {
			return n, nil
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not a value from %d to %d", s, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, part := range strings.Split(f, ",") {
		if strings.ContainsAny(part, "LW#?") && !isName(part, names) {
			return nil, fmt.Errorf("%q: the wildcards L, W, # and ? (outside a day field alone) are not emulated", part)
		}
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepText); err != nil || step < 1 {
				return nil, fmt.Errorf("%q: step %q", part, stepText)
			}
		}
		first, last := lo, hi
		switch a, b, isRange := strings.Cut(rng, "-"); {
		case rng == "*":
		case isRange:
			var err error
			if first, err = num(a); err != nil {
				return nil, err
			}
			if last, err = num(b); err != nil {
				return nil, err
			}
			if last < first {
				return nil, fmt.Errorf("%q: a range that wraps is not emulated", part)
			}
		default:
			var err error
			if first, err = num(rng); err != nil {
				return nil, err
			}
			if !hasStep {
				last = first
			}
		}
		for v := first; v <= last; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func isName(s string, names map[string]int) bool {
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' }) {
		if _, ok := names[strings.ToUpper(part)]; !ok {
			if _, err := strconv.Atoi(part); err != nil {
				return false
			}
		}
	}
	return true
}

// matches reports whether the schedule fires at t's minute (UTC).
func (c *cronSchedule) matches(t time.Time) bool {
	t = t.UTC()
	if !c.minutes[t.Minute()] || !c.hours[t.Hour()] || !c.months[int(t.Month())] || !c.yrs[t.Year()] {
		return false
	}
	if c.anyDOM {
		return c.dows[int(t.Weekday())+1]
	}
	return c.doms[t.Day()]
}
