package test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/blueprint"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/observer"
	"github.com/eventlake/eventlake/constructs/pipeline"
	rt "github.com/eventlake/eventlake/observer"
)

func TestObserverWiring(t *testing.T) {
	stack := newStack()
	bucket := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	observer.NewObserver(stack, jsii.String("Obs"), &observer.ObserverProps{
		Watches:  []*observer.WatchProps{{Bucket: bucket, Prefix: jsii.String("events/"), Depth: jsii.Number(4)}},
		Strategy: rt.Exponential, Delay: awscdk.Duration_Seconds(jsii.Number(60)), Unchanged: jsii.Number(5),
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{"source": []any{"aws.s3"}, "detail-type": []any{"Object Created"},
			"detail": map[string]any{"bucket": map[string]any{"name": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Lake"))}}},
				"object": map[string]any{"key": []any{map[string]any{"prefix": "events/"}}}}},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"STRATEGY": "exponential", "DELAY_SECONDS": "60", "UNCHANGED": "5", "MAX_WAIT_SECONDS": "86400"})},
	})
	// The monitor's watches are JSON once CloudFormation substitutes the bucket name (the monitor exits otherwise).
	fns := tmpl.FindResources(jsii.String("AWS::Lambda::Function"), nil)
	watched := false
	for _, fn := range *fns {
		raw := jsonOf(fn)
		if !strings.Contains(raw, "WATCHES") {
			continue
		}
		var f struct {
			Properties struct {
				Environment struct {
					Variables struct {
						WATCHES struct {
							Sub []json.RawMessage `json:"Fn::Sub"`
						}
					}
				}
			}
		}
		json.Unmarshal([]byte(raw), &f)
		var tmplText string
		if len(f.Properties.Environment.Variables.WATCHES.Sub) != 2 || json.Unmarshal(f.Properties.Environment.Variables.WATCHES.Sub[0], &tmplText) != nil {
			t.Fatalf("WATCHES is not an Fn::Sub: %s", raw)
		}
		var watches []rt.Watch
		if err := json.Unmarshal([]byte(strings.ReplaceAll(tmplText, "${bucket0}", "lake-bucket")), &watches); err != nil ||
			len(watches) != 1 || watches[0] != (rt.Watch{Bucket: "lake-bucket", Prefix: "events/", Depth: 4}) {
			t.Errorf("WATCHES %q gives %+v (%v), want the lake bucket, events/, depth 4", tmplText, watches, err)
		}
		watched = true
	}
	if !watched {
		t.Error("no function has WATCHES")
	}
	// Queues are encrypted, with dead-letter queues; the topic is encrypted and TLS-only.
	tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"SqsManagedSseEnabled": true, "RedrivePolicy": map[string]any{"deadLetterTargetArn": assertions.Match_AnyValue(), "maxReceiveCount": 5},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"KmsMasterKeyId": assertions.Match_AnyValue()})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{"BatchSize": 100, "MaximumBatchingWindowInSeconds": 10,
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"}})
	for name, bad := range map[string]*observer.ObserverProps{
		"Delay":     {Watches: []*observer.WatchProps{{Bucket: bucket}}, Delay: awscdk.Duration_Minutes(jsii.Number(20))},
		"Unchanged": {Watches: []*observer.WatchProps{{Bucket: bucket}}, Unchanged: jsii.Number(0)},
		"MaxWait":   {Watches: []*observer.WatchProps{{Bucket: bucket}}, MaxWait: awscdk.Duration_Seconds(jsii.Number(10))},
		"Strategy":  {Watches: []*observer.WatchProps{{Bucket: bucket}}, Strategy: "linear"},
		"Watches":   {},
	} {
		mustPanic(t, func() { observer.NewObserver(stack, jsii.String("Bad"+name), bad) }, name)
	}
}

func TestPipelineWiring(t *testing.T) {
	stack := newStack()
	sm := awsstepfunctions.NewStateMachine(stack, jsii.String("Process"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(awsstepfunctions.NewSucceed(stack, jsii.String("Done"), nil)),
	})
	pipeline.NewPipeline(stack, jsii.String("Pipe"), &pipeline.PipelineProps{StateMachine: sm, DataPipelineTemplateID: jsii.String("df-0123456789ABC")})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{"source": []any{"eventlake.observer"}, "detail-type": []any{"DataSetReady"}},
		"Targets":      assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"DeadLetterConfig": assertions.Match_AnyValue(), "RetryPolicy": assertions.Match_AnyValue()})}),
	})
	rules := tmpl.FindResources(jsii.String("AWS::Events::Rule"), nil)
	found := false
	for _, r := range *rules {
		raw := strings.NewReplacer(`\"`, `"`, `\u003c`, "<", `\u003e`, ">").Replace(jsonOf(r))
		if strings.Contains(raw, "Step Functions Execution Status Change") {
			found = true
			for _, want := range []string{"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "Pipeline run <detail-name>", "ended <detail-status>"} {
				if !strings.Contains(raw, want) {
					t.Errorf("run-ended rule lacks %q: %s", want, raw)
				}
			}
		}
	}
	if !found {
		t.Error("no rule tells people when a run ends")
	}
	// The starter may start only this state machine.
	policy := findPolicy(t, tmpl, "PipeStarterRoleDefaultPolicy")
	if !strings.Contains(policy, `{"Action":"states:StartExecution","Effect":"Allow","Resource":{"Ref":"Process`) {
		t.Errorf("starter policy: %s", policy)
	}
}

func TestPipelineOnEachObject(t *testing.T) {
	stack := newStack()
	sm := awsstepfunctions.NewStateMachine(stack, jsii.String("Process"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(awsstepfunctions.NewSucceed(stack, jsii.String("Done"), nil)),
	})
	drops := awss3.NewBucket(stack, jsii.String("Drops"), nil)
	pipeline.NewPipeline(stack, jsii.String("Pipe"), &pipeline.PipelineProps{StateMachine: sm,
		OnEachObject: []*pipeline.ObjectSource{{Bucket: drops, Prefix: jsii.String("in/")}}})
	assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{"source": []any{"aws.s3"}, "detail-type": []any{"Object Created"},
			"detail": map[string]any{"bucket": map[string]any{"name": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Drops"))}}},
				"object": map[string]any{"key": []any{map[string]any{"prefix": "in/"}}}}},
		"Targets": []any{assertions.Match_ObjectLike(&map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^PipeStarter")), "Arn"}}})},
	})
}

// expectRules returns the observer's schedule rules by their schedule expression, each with the expectation its
// target sends (the bucket's Ref replaced by lakeBucket, the event's time by at) and the rule's logical id.
func expectRules(t *testing.T, tmpl assertions.Template, at string) map[string]struct {
	id string
	x  rt.Expectation
} {
	t.Helper()
	out := map[string]struct {
		id string
		x  rt.Expectation
	}{}
	for id, r := range *tmpl.FindResources(jsii.String("AWS::Events::Rule"), nil) {
		var rule struct {
			Properties struct {
				ScheduleExpression string
				Targets            []struct {
					Arn              map[string][]string
					InputTransformer struct {
						InputPathsMap map[string]string
						InputTemplate struct {
							Join []json.RawMessage `json:"Fn::Join"`
						}
					}
				}
			}
		}
		json.Unmarshal([]byte(jsonOf(r)), &rule)
		if rule.Properties.ScheduleExpression == "" {
			continue
		}
		p := rule.Properties
		if len(p.Targets) != 1 || len(p.Targets[0].Arn["Fn::GetAtt"]) == 0 || !strings.HasPrefix(p.Targets[0].Arn["Fn::GetAtt"][0], "ObsObjectEvents") &&
			!strings.Contains(p.Targets[0].Arn["Fn::GetAtt"][0], "ObserverObjectEvents") {
			t.Fatalf("rule %s targets %+v, want the monitor's queue", id, p.Targets)
		}
		tr := p.Targets[0].InputTransformer
		if tr.InputPathsMap["time"] != "$.time" || len(tr.InputTemplate.Join) != 2 {
			t.Fatalf("rule %s input %s: want the event's time in a template", id, jsonOf(tr))
		}
		var parts []any
		json.Unmarshal(tr.InputTemplate.Join[1], &parts)
		var body strings.Builder
		for _, part := range parts {
			if s, ok := part.(string); ok {
				body.WriteString(s)
			} else {
				body.WriteString("lake-bucket") // the bucket's Ref
			}
		}
		var msg struct{ Expect *rt.Expectation }
		text := strings.ReplaceAll(body.String(), "<time>", `"`+at+`"`)
		if err := json.Unmarshal([]byte(text), &msg); err != nil || msg.Expect == nil {
			t.Fatalf("rule %s sends %s: not an expectation (%v)", id, text, err)
		}
		out[p.ScheduleExpression] = struct {
			id string
			x  rt.Expectation
		}{id, *msg.Expect}
	}
	return out
}

// dynamoActions lists a policy's DynamoDB statements as "action on resource [condition]".
func dynamoActions(t *testing.T, policy string) []string {
	var p struct {
		Properties struct {
			PolicyDocument struct {
				Statement []struct {
					Action    any
					Resource  any
					Condition any
				}
			}
		}
	}
	json.Unmarshal([]byte(policy), &p)
	var out []string
	for _, s := range p.Properties.PolicyDocument.Statement {
		actions, _ := s.Action.([]any)
		if a, ok := s.Action.(string); ok {
			actions = []any{a}
		}
		for _, a := range actions {
			if strings.HasPrefix(a.(string), "dynamodb:") {
				line := a.(string) + " on " + jsonOf(s.Resource)
				if s.Condition != nil {
					line += " if " + jsonOf(s.Condition)
				}
				out = append(out, line)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestObserverExpect(t *testing.T) {
	stack := newStack()
	bucket := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	daily := awsevents.Schedule_Cron(&awsevents.CronOptions{Minute: jsii.String("30"), Hour: jsii.String("0")})
	observer.NewObserver(stack, jsii.String("Obs"), &observer.ObserverProps{
		Watches: []*observer.WatchProps{
			{Bucket: bucket, Prefix: jsii.String("events/"), Depth: jsii.Number(4), Expect: &observer.ExpectProps{}},
			{Bucket: bucket, Prefix: jsii.String("daily/"), Expect: &observer.ExpectProps{Schedule: daily, Layout: jsii.String("2006-01-02/")}},
			{Bucket: bucket, Prefix: jsii.String("other/")}, // no Expect, no schedule
		},
		MaxWait: awscdk.Duration_Hours(jsii.Number(2)),
	})
	tmpl := assertions.Template_FromStack(stack, nil)

	// One schedule per watch with Expect, each sending the monitor's queue an expectation of its own data sets.
	rules := expectRules(t, tmpl, "2026-11-21T09:05:17Z")
	if len(rules) != 2 {
		t.Fatalf("schedules %+v, want the two of the watches with Expect", rules)
	}
	hourly, ok := rules["cron(5 * * * ? *)"]
	if !ok || hourly.x.DataSet() != "lake-bucket/events/2026/11/21/09/" {
		t.Errorf("hourly schedule %+v: want one at minute 5 expecting that hour, lake-bucket/events/2026/11/21/09/", hourly)
	}
	if d, ok := rules["cron(30 0 * * ? *)"]; !ok || d.x.DataSet() != "lake-bucket/daily/2026-11-21/" {
		t.Errorf("daily schedule %+v: want one at 00:30 expecting lake-bucket/daily/2026-11-21/", rules)
	}
	// EventBridge may send to the queue (and its dead-letter queue) for these rules only.
	for _, r := range rules {
		for _, queue := range []string{"ObsObjectEvents", "ObsObjectEventsDeadLetters"} {
			found := false
			for id, p := range *tmpl.FindResources(jsii.String("AWS::SQS::QueuePolicy"), nil) {
				raw := jsonOf(p)
				if strings.HasPrefix(id, queue+"Policy") && strings.Contains(raw, `"aws:SourceArn":{"Fn::GetAtt":["`+r.id+`","Arn"]}`) &&
					strings.Contains(raw, `"Service":"events.amazonaws.com"`) {
					found = true
				}
			}
			if !found {
				t.Errorf("no statement of %s's policy lets rule %s send", queue, r.id)
			}
		}
	}

	// Markers expire: the table has a time to live, and the monitor keeps them MaxWait plus 14 days.
	tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"TimeToLiveSpecification": map[string]any{"AttributeName": rt.AttrExpiresAt, "Enabled": true},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"MARKER_TTL_SECONDS": fmt.Sprint(2*3600 + 14*86400)})},
	})

	// Exactly the table calls each function makes, on the table only; PutItem only inside a transaction.
	table := `{"Fn::GetAtt":["ObsCountersD3ECFA5A","Arn"]}`
	if got, want := dynamoActions(t, findPolicy(t, tmpl, "ObsMonitorRoleDefaultPolicy")), []string{
		"dynamodb:GetItem on " + table,
		"dynamodb:PutItem on " + table + ` if {"ForAnyValue:StringEquals":{"dynamodb:EnclosingOperation":["TransactWriteItems"]}}`,
		"dynamodb:UpdateItem on " + table,
	}; !slices.Equal(got, want) {
		t.Errorf("monitor's DynamoDB permissions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := dynamoActions(t, findPolicy(t, tmpl, "ObsObserverRoleDefaultPolicy")), []string{
		"dynamodb:GetItem on " + table, "dynamodb:UpdateItem on " + table,
	}; !slices.Equal(got, want) {
		t.Errorf("observer's DynamoDB permissions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Whole seconds in the environment, however many (the handlers parse integers, not 1.2096e+06).
	long := newStack()
	observer.NewObserver(long, jsii.String("Obs"), &observer.ObserverProps{
		Watches: []*observer.WatchProps{{Bucket: awss3.NewBucket(long, jsii.String("Lake"), nil)}}, MaxWait: awscdk.Duration_Days(jsii.Number(14)),
	})
	longTmpl := assertions.Template_FromStack(long, nil)
	longTmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"MAX_WAIT_SECONDS": "1209600"})},
	})
	longTmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"MARKER_TTL_SECONDS": "2419200"})},
	})

	// A layout that names no data set of its watch is refused, naming the field, the value and the rule.
	mustPanic(t, func() {
		observer.NewObserver(stack, jsii.String("BadDepth"), &observer.ObserverProps{Watches: []*observer.WatchProps{
			{Bucket: bucket, Prefix: jsii.String("events/"), Depth: jsii.Number(4), Expect: &observer.ExpectProps{Layout: jsii.String("2006/01/02/")}}}})
	}, "Watches[0].Expect.Layout", `"2006/01/02/"`, "exactly 4 segments")
	mustPanic(t, func() {
		observer.NewObserver(stack, jsii.String("BadSlash"), &observer.ObserverProps{Watches: []*observer.WatchProps{
			{Bucket: bucket}, {Bucket: bucket, Prefix: jsii.String("in/"), Expect: &observer.ExpectProps{Layout: jsii.String("2006-01-02")}}}})
	}, "Watches[1].Expect.Layout", `"2006-01-02"`, `ends in "/"`)
}

func TestObserverBlueprintExpectsEveryHourOfTheLake(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	b := blueprint.New(app)
	rules := expectRules(t, assertions.Template_FromStack(b.Lake, nil), "2026-11-21T09:05:00Z")
	if r, ok := rules["cron(5 * * * ? *)"]; len(rules) != 1 || !ok || r.x.DataSet() != "lake-bucket/events/2026/11/21/09/" {
		t.Errorf("the lake's schedules %+v: want one, at minute 5 of each hour, expecting that hour", rules)
	}
}

// TestObserverBlueprintWaitsOutTheLakesFlushes: Firehose writes an hour's objects one buffering interval apart, so the
// lake observer's quiet window (N constant readings d apart) must be longer than that interval, with a margin for late
// deliveries, or every hour would complete, and start its pipeline, after each flush.
func TestObserverBlueprintWaitsOutTheLakesFlushes(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	b := blueprint.New(app)
	raw := jsonOf(assertions.Template_FromStack(b.Lake, nil).ToJSON())
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	if err := json.Unmarshal([]byte(raw), &tmpl); err != nil {
		t.Fatal(err)
	}
	interval := -1.0
	var env map[string]any
	for _, r := range tmpl.Resources {
		switch {
		case r.Type == "AWS::KinesisFirehose::DeliveryStream":
			var ds struct {
				ExtendedS3DestinationConfiguration struct {
					BufferingHints struct{ IntervalInSeconds float64 }
				}
			}
			b, _ := json.Marshal(r.Properties)
			json.Unmarshal(b, &ds)
			interval = ds.ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds
		case r.Type == "AWS::Lambda::Function":
			fnEnv, _ := r.Properties["Environment"].(map[string]any)
			vars, _ := fnEnv["Variables"].(map[string]any)
			if _, ok := vars["UNCHANGED"]; ok { // the observer's, not the monitor's
				env = vars
			}
		}
	}
	if interval <= 0 || env == nil {
		t.Fatalf("no lake buffering interval (%v) or observer environment (%v) in the template", interval, env)
	}
	delay, _ := strconv.ParseFloat(fmt.Sprint(env["DELAY_SECONDS"]), 64)
	n, _ := strconv.ParseFloat(fmt.Sprint(env["UNCHANGED"]), 64)
	if env["STRATEGY"] != "constant" || n*delay < interval+60 {
		t.Errorf("the lake observer confirms an hour after %v readings %v s apart (%v), within a minute of Firehose's %v s between objects: "+
			"an hour would complete after each flush", n, delay, env["STRATEGY"], interval)
	}
}
