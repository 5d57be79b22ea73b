package test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/pipeline"
)

// TestRunEndedTopicTakesEventBridge: EventBridge publishes the run-ended messages, and it cannot publish to a topic
// encrypted with the AWS-managed aws/sns key. The topic's key must be the pipeline's own, and its policy must let
// EventBridge use it for the run-ended rule only.
func TestRunEndedTopicTakesEventBridge(t *testing.T) {
	stack := newStack()
	sm := awsstepfunctions.StateMachine_FromStateMachineName(stack, jsii.String("Process"), jsii.String("process"))
	pipeline.NewPipeline(stack, jsii.String("Pipe"), &pipeline.PipelineProps{StateMachine: sm})
	tmpl := assertions.Template_FromStack(stack, nil)

	topics := *tmpl.FindResources(jsii.String("AWS::SNS::Topic"), nil)
	if len(topics) != 1 {
		t.Fatalf("want one topic, got %d", len(topics))
	}
	var keyID string
	for _, topic := range topics {
		raw := jsonOf(topic)
		if strings.Contains(raw, "alias/aws/sns") {
			t.Fatalf("run-ended topic is encrypted with the AWS-managed key, which EventBridge cannot use: %s", raw)
		}
		ref, _ := (*topic)["Properties"].(map[string]any)["KmsMasterKeyId"].(map[string]any)
		attr, _ := ref["Fn::GetAtt"].([]any)
		if len(attr) == 0 {
			t.Fatalf("run-ended topic is not encrypted with a key of the stack: %s", raw)
		}
		keyID = attr[0].(string)
	}
	key := jsonOf((*tmpl.FindResources(jsii.String("AWS::KMS::Key"), nil))[keyID])
	for _, want := range []string{`"EnableKeyRotation":true`, `"Service":"events.amazonaws.com"`, `"kms:GenerateDataKey*"`, `"kms:Decrypt"`} {
		if !strings.Contains(key, want) {
			t.Errorf("the topic's key lacks %s: %s", want, key)
		}
	}
}
