package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

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
