package lake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/test/rehearsal"
	"github.com/eventlake/eventlake/test/rehearsal/sources"
)

// blueprint is what scenario 1 drives of the deployed blueprint: the event stream, the lake's delivery stream and
// transformation, the observer's monitor and observer with their queue mappings, its rules, topic and counters, and
// the pipeline's starter and state machine. Everything is found by what it is — a function by the variables its
// handler reads, a mapping or a rule by the function or queue it names — not by logical id, so that a renamed
// construct does not break the scenario but a lost wire does.
type blueprint struct {
	// streamARN is the event stream's ARN.
	streamARN string
	// lake is the lake's delivery stream's settings, transform its transformation.
	lake      sources.FirehoseSettings
	transform *rehearsal.Function
	// lakeBucket is the lake's bucket; watch is the monitor's watch of it (the lake's prefix, a data set per hour).
	lakeBucket string
	watch      observer.Watch
	// monitor counts the lake's objects from its queue (monitorMapping); observerFn reads the counters on its loop
	// (observerMapping), announcing on bus and topic.
	monitor, observerFn             *rehearsal.Function
	monitorMapping, observerMapping sources.SQSSettings
	// visibility is the visibility timeout of the monitor's and the observer's queues: when a failed message is
	// received again.
	visibility                   time.Duration
	bus, topicARN, countersTable string
	// rules are every AWS::Events::Rule of the templates; objectCreated sends the lake's S3 events to the monitor's
	// queue, expect is the watch's schedule, ready starts the pipeline on DataSetReady.
	rules                        []sources.EventBridgeRule
	objectCreated, expect, ready sources.EventBridgeRule
	// starter is the pipeline's starter, stateMachineARN what it starts.
	starter         *rehearsal.Function
	stateMachineARN string
}

// findBlueprint finds the blueprint's parts in the rehearsal's deployment and fails the test when one is missing.
func findBlueprint(t *testing.T, r *rehearsal.Rehearsal) *blueprint {
	t.Helper()
	d := r.Deployment()
	a := d.Assembly
	bp := &blueprint{}
	withEnv := func(keys ...string) *rehearsal.Function {
		var found []*rehearsal.Function
		for _, fn := range r.Functions() {
			all := true
			for _, k := range keys {
				if _, ok := fn.Environment[k]; !ok {
					all = false
				}
			}
			if all {
				found = append(found, fn)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d functions of the templates have the environment variables %v, want 1", len(found), keys)
		}
		return found[0]
	}
	named := func(nameOrARN string) *rehearsal.Function {
		fn := r.FunctionNamed(nameOrARN[strings.LastIndex(nameOrARN, ":")+1:])
		if fn == nil {
			t.Fatalf("%s is none of the templates' functions", nameOrARN)
		}
		return fn
	}

	streams := a.ResourcesOfType("AWS::Kinesis::Stream")
	if len(streams) != 1 {
		t.Fatalf("%d Kinesis streams in the templates, want the event stream only", len(streams))
	}
	var err error
	if bp.streamARN, err = d.Attr(streams[0].Stack, streams[0].LogicalID, "Arn"); err != nil {
		t.Fatal(err)
	}
	fires := a.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream")
	if len(fires) != 1 {
		t.Fatalf("%d delivery streams in the templates, want the lake's", len(fires))
	}
	if bp.lake, err = sources.FirehoseSettingsFrom(d.Properties(fires[0].Stack, fires[0].LogicalID)); err != nil {
		t.Fatal(err)
	}
	if bp.lake.DeliveryStreamName, err = d.Ref(fires[0].Stack, fires[0].LogicalID); err != nil {
		t.Fatal(err)
	}
	if bp.lake.Processor == nil || bp.lake.SourceStreamARN != bp.streamARN {
		t.Fatalf("the lake's delivery stream reads %s with transformation %+v; the event stream is %s", bp.lake.SourceStreamARN, bp.lake.Processor, bp.streamARN)
	}
	bp.transform = named(bp.lake.Processor.LambdaARN)
	bp.lakeBucket = strings.TrimPrefix(bp.lake.BucketARN, "arn:aws:s3:::")

	bp.monitor = withEnv("WATCHES")
	bp.observerFn = withEnv("UNCHANGED", "TOPIC_ARN", "EVENT_BUS")
	bp.starter = withEnv("STATE_MACHINE_ARN")
	bp.countersTable, bp.topicARN, bp.bus = bp.monitor.Environment["TABLE"], bp.observerFn.Environment["TOPIC_ARN"], bp.observerFn.Environment["EVENT_BUS"]
	bp.stateMachineARN = bp.starter.Environment["STATE_MACHINE_ARN"]
	if bp.observerFn.Environment["TABLE"] != bp.countersTable || bp.observerFn.Environment["QUEUE_URL"] != bp.monitor.Environment["QUEUE_URL"] {
		t.Fatalf("the monitor and the observer do not share their counters and readings queue: %v, %v", bp.monitor.Environment, bp.observerFn.Environment)
	}
	var watches []observer.Watch
	if err := json.Unmarshal([]byte(bp.monitor.Environment["WATCHES"]), &watches); err != nil {
		t.Fatalf("the monitor's WATCHES: %v", err)
	}
	for _, w := range watches {
		if w.Bucket == bp.lakeBucket {
			bp.watch = w
		}
	}
	if bp.watch.Bucket == "" || !strings.HasPrefix(bp.lake.Prefix, bp.watch.Prefix) {
		t.Fatalf("the monitor watches %v, not the lake's bucket %s under its prefix %s", watches, bp.lakeBucket, bp.lake.Prefix)
	}

	for _, res := range a.ResourcesOfType("AWS::Lambda::EventSourceMapping") {
		props := d.Properties(res.Stack, res.LogicalID)
		if src, _ := arn.Parse(fmt.Sprint(props["EventSourceArn"])); src.Service != "sqs" {
			continue
		}
		s, err := sources.SQSSettingsFrom(props)
		if err != nil {
			t.Fatalf("%s/%s: %v", res.Stack, res.LogicalID, err)
		}
		switch named(s.FunctionName) {
		case bp.monitor:
			bp.monitorMapping = s
		case bp.observerFn:
			bp.observerMapping = s
		}
	}
	if bp.monitorMapping.EventSourceARN == "" || bp.observerMapping.EventSourceARN == "" {
		t.Fatalf("the monitor's (%+v) or the observer's (%+v) queue mapping is missing", bp.monitorMapping, bp.observerMapping)
	}
	for _, res := range a.ResourcesOfType("AWS::SQS::Queue") {
		queueARN, _ := d.Attr(res.Stack, res.LogicalID, "Arn")
		if queueARN != bp.monitorMapping.EventSourceARN && queueARN != bp.observerMapping.EventSourceARN {
			continue
		}
		secs := 30 // SQS's default
		if v, ok := d.Properties(res.Stack, res.LogicalID)["VisibilityTimeout"]; ok {
			if secs, err = strconv.Atoi(fmt.Sprint(v)); err != nil {
				t.Fatalf("%s/%s: VisibilityTimeout %v", res.Stack, res.LogicalID, v)
			}
		}
		bp.visibility = max(bp.visibility, time.Duration(secs)*time.Second)
	}

	for _, res := range a.ResourcesOfType("AWS::Events::Rule") {
		rule, err := sources.EventBridgeRuleFrom(d.Properties(res.Stack, res.LogicalID))
		if err == nil {
			rule.ARN, err = d.Attr(res.Stack, res.LogicalID, "Arn")
		}
		if err != nil {
			t.Fatalf("%s/%s: %v", res.Stack, res.LogicalID, err)
		}
		bp.rules = append(bp.rules, rule)
		for _, tg := range rule.Targets {
			switch {
			case tg.ARN == bp.monitorMapping.EventSourceARN && rule.EventPattern != "":
				bp.objectCreated = rule
			case tg.ARN == bp.monitorMapping.EventSourceARN:
				bp.expect = rule
			case tg.ARN == bp.starter.ARN():
				bp.ready = rule
			}
		}
	}
	if bp.objectCreated.ARN == "" || bp.expect.ARN == "" || bp.ready.ARN == "" {
		t.Fatalf("a rule is missing: the lake's objects to the monitor (%v), the watch's schedule (%v), DataSetReady to the starter (%v)",
			bp.objectCreated.ARN != "", bp.expect.ARN != "", bp.ready.ARN != "")
	}
	return bp
}

// permits reports whether an AWS::Lambda::Permission of the templates lets EventBridge's rule invoke the function,
// which EventBridge needs and the EventBridge driver does not check.
func permits(r *rehearsal.Rehearsal, fn *rehearsal.Function, ruleARN string) bool {
	d := r.Deployment()
	for _, res := range d.Assembly.ResourcesOfType("AWS::Lambda::Permission") {
		p := d.Properties(res.Stack, res.LogicalID)
		name := fmt.Sprint(p["FunctionName"])
		if (name == fn.ARN() || name == fn.Name()) && p["Action"] == "lambda:InvokeFunction" && p["Principal"] == "events.amazonaws.com" && p["SourceArn"] == ruleARN {
			return true
		}
	}
	return false
}
