package test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/replay"
)

func TestReplayIntoAFunction(t *testing.T) {
	stack := newStack()
	bucket := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	target := subscriberFn(stack, "Target")
	r := replay.NewReplay(stack, jsii.String("Replay"), &replay.ReplayProps{Bucket: bucket, Prefix: jsii.String("events/"), Function: target})
	tmpl := assertions.Template_FromStack(stack, nil)

	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Runtime": "provided.al2023", "Timeout": 900, "MemorySize": 1024,
		"Environment": map[string]any{"Variables": map[string]any{
			"LAKE_BUCKET": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Lake"))}, "LAKE_PREFIX": "events/",
			"TARGET_FUNCTION": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Target")), "Arn"}},
		}},
	})
	// The replay function reads the lake under its prefix, and invokes only the target.
	policy := findPolicy(t, tmpl, "ReplayFunctionRoleDefaultPolicy")
	if !strings.Contains(policy, `"/events/*"`) || !strings.Contains(policy, `"lambda:InvokeFunction"`) {
		t.Errorf("replay policy lacks the lake read under events/ or the invoke: %s", policy)
	}
	if strings.Contains(policy, "kinesis:") || strings.Count(policy, "lambda:InvokeFunction") != 1 {
		t.Errorf("replay policy grants more than reading the lake and invoking its target: %s", policy)
	}
	// The state machine loops the leg until done, with logs and tracing.
	sm := findResource(t, tmpl, "AWS::StepFunctions::StateMachine")
	def, _ := json.Marshal(sm["Properties"].(map[string]any)["DefinitionString"])
	for _, want := range []string{`\"Variable\":\"$.done\"`, `\"BooleanEquals\":true`, `\"Default\":\"Leg\"`, `\"Type\":\"Succeed\"`} {
		if !strings.Contains(string(def), want) {
			t.Errorf("state machine definition lacks %s: %s", want, def)
		}
	}
	// A refused input (replay.InputError: no explicit scope, a prefix outside the lake, …) fails the execution at
	// once: its retrier, with no attempts, comes before the one for States.TaskFailed, which matches every error.
	var retriers []string
	for _, r := range definition(t, sm)["States"].(map[string]any)["Leg"].(map[string]any)["Retry"].([]any) {
		r := r.(map[string]any)
		retriers = append(retriers, fmt.Sprintf("%v:%v", r["ErrorEquals"], r["MaxAttempts"]))
	}
	input, failed := slices.Index(retriers, "[InputError]:0"), slices.Index(retriers, "[States.TaskFailed]:3")
	if input < 0 || failed < 0 || input > failed {
		t.Errorf("Leg retriers %v: want [InputError] with no attempts before [States.TaskFailed]", retriers)
	}
	tmpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
		"TracingConfiguration": map[string]any{"Enabled": true},
		"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{"Level": "ALL"}),
	})
	if r.Function() == nil || r.StateMachine() == nil {
		t.Error("Function() and StateMachine() must expose the L2s")
	}
}

func TestReplayIntoAStreamWritesOnlyThere(t *testing.T) {
	stack := newStack()
	bucket := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	stream := awskinesis.NewStream(stack, jsii.String("ReplayStream"), nil)
	replay.NewReplay(stack, jsii.String("Replay"), &replay.ReplayProps{Bucket: bucket, Stream: stream})
	policy := findPolicy(t, assertions.Template_FromStack(stack, nil), "ReplayFunctionRoleDefaultPolicy")
	if !strings.Contains(policy, "kinesis:PutRecords") || strings.Contains(policy, "lambda:InvokeFunction") {
		t.Errorf("replay-to-stream policy: %s", policy)
	}
	// Each leg checks the stream before it reads the lake.
	if !strings.Contains(policy, `"kinesis:DescribeStreamSummary"`) || strings.Contains(policy, `"kinesis:*"`) {
		t.Errorf("replay-to-stream policy does not allow the stream's check (DescribeStreamSummary), or allows too much: %s", policy)
	}
}

func TestReplayValidation(t *testing.T) {
	stack := newStack()
	bucket := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	mustPanic(t, func() { replay.NewReplay(stack, jsii.String("R1"), &replay.ReplayProps{Bucket: bucket}) }, "exactly one of", "Function", "Stream")
	mustPanic(t, func() {
		replay.NewReplay(stack, jsii.String("R2"), &replay.ReplayProps{Function: subscriberFn(stack, "F")})
	}, "Bucket is required")
}

func findResource(t *testing.T, tmpl assertions.Template, typ string) map[string]any {
	t.Helper()
	for _, r := range *tmpl.FindResources(jsii.String(typ), nil) {
		raw, _ := json.Marshal(r)
		var m map[string]any
		json.Unmarshal(raw, &m)
		return m
	}
	t.Fatalf("no %s", typ)
	return nil
}

// definition parses a state machine's DefinitionString, its CloudFormation tokens replaced by "TOKEN".
func definition(t *testing.T, sm map[string]any) map[string]any {
	t.Helper()
	var text strings.Builder
	switch d := sm["Properties"].(map[string]any)["DefinitionString"].(type) {
	case string:
		text.WriteString(d)
	case map[string]any:
		for _, part := range d["Fn::Join"].([]any)[1].([]any) {
			if s, ok := part.(string); ok {
				text.WriteString(s)
			} else {
				text.WriteString("TOKEN")
			}
		}
	}
	var def map[string]any
	if err := json.Unmarshal([]byte(text.String()), &def); err != nil {
		t.Fatalf("state machine definition %s: %v", text.String(), err)
	}
	return def
}

func findPolicy(t *testing.T, tmpl assertions.Template, logicalPrefix string) string {
	t.Helper()
	for id, r := range *tmpl.FindResources(jsii.String("AWS::IAM::Policy"), nil) {
		if strings.HasPrefix(id, logicalPrefix) {
			raw, _ := json.Marshal(r)
			return string(raw)
		}
	}
	t.Fatalf("no policy %s*", logicalPrefix)
	return ""
}

func jsonOf(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
