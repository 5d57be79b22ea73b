package subscription_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/subscription"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/mapping"
)

// Each subscription's resource declares only properties the mapper knows (package contract's), and they parse as
// the mapper parses them: every tier, and every optional property set. Token values are checked to reference a
// resource of the right type, then replaced by an ARN of that type.
func TestResourceContract(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	stream := awskinesis.NewStream(stack, jsii.String("Events"), nil)
	fn := func(id string) awslambda.Function {
		return golambda.NewFunction(stack, jsii.String(id), &golambda.FunctionProps{Package: golambda.Handler("examplesubscriber")})
	}
	subscription.NewSubscription(stack, jsii.String("Realtime"), &subscription.SubscriptionProps{Stream: stream, Function: fn("A"), Tier: subscription.Realtime})
	subscription.NewSubscription(stack, jsii.String("Bulk"), &subscription.SubscriptionProps{Stream: stream, Function: fn("B"), Tier: subscription.Bulk})
	subscription.NewSubscription(stack, jsii.String("Everything"), &subscription.SubscriptionProps{
		Stream: stream, Function: fn("C"),
		BatchSize: jsii.Number(contract.MaxBatchSize), MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(contract.MaxBatchingWindowSeconds)),
		ParallelizationFactor: jsii.Number(contract.MaxParallelization), RetryAttempts: jsii.Number(contract.MaxRetryAttempts),
		MaxRecordAge:     awscdk.Duration_Seconds(jsii.Number(contract.MinRecordAgeSeconds)),
		TumblingWindow:   awscdk.Duration_Seconds(jsii.Number(contract.MaxTumblingWindowSeconds)),
		StartingPosition: awslambda.StartingPosition_AT_TIMESTAMP, StartingPositionTimestamp: jsii.Number(1767225600),
		Filters: &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{"data": map[string]interface{}{"type": []string{"order-placed"}}})},
		Enabled: jsii.Bool(false), BisectBatchOnError: jsii.Bool(false), ReportBatchItemFailures: jsii.Bool(false),
	})

	tmpl := *assertions.Template_FromStack(stack, nil).ToJSON()
	resources := tmpl["Resources"].(map[string]any)
	arnOf := map[string]string{
		"AWS::Lambda::Function":        "arn:aws:lambda:us-east-1:111111111111:function:subscriber",
		"AWS::Kinesis::Stream":         "arn:aws:kinesis:us-east-1:111111111111:stream/events",
		"AWS::Kinesis::StreamConsumer": "arn:aws:kinesis:us-east-1:111111111111:stream/events/consumer/c:1",
		"AWS::S3::Bucket":              "arn:aws:s3:::failed-batches",
	}
	resolve := func(name string, v any) any {
		ref, ok := v.(map[string]any)
		if !ok {
			return v
		}
		var logical any
		if att, ok := ref["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			logical = att[0]
		} else {
			logical = ref["Ref"]
		}
		res, _ := resources[logical.(string)].(map[string]any)
		arn, ok := arnOf[res["Type"].(string)]
		if !ok {
			t.Errorf("%s = %v references a %v, not a function, stream, consumer or bucket", name, v, res["Type"])
		}
		return arn
	}
	n := 0
	for id, r := range resources {
		res := r.(map[string]any)
		if res["Type"] != contract.SubscriptionResourceType {
			continue
		}
		n++
		props := map[string]any{}
		for k, v := range res["Properties"].(map[string]any) {
			if k == "ServiceToken" || k == "ServiceTimeout" {
				continue
			}
			if !slices.Contains(contract.SubscriptionProperties, k) {
				t.Errorf("%s declares %s, which is no property of contract.SubscriptionProperties", id, k)
			}
			props[k] = resolve(id+"."+k, v)
		}
		if _, err := mapping.ParseProperties(props); err != nil {
			t.Errorf("%s: the mapper refuses %v: %v", id, props, err)
		}
	}
	if n != 3 {
		t.Errorf("%d %s resources, want 3", n, contract.SubscriptionResourceType)
	}
}
