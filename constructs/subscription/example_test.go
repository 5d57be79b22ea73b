package subscription_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/subscription"
)

// A team's function, subscribed to the platform's stream as a bulk (low-priority) reader with a 2-minute batching
// window, keeping only order events.
func ExampleNewSubscription() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Reports"), nil)

	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"),
		jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	fn := awslambda.Function_FromFunctionAttributes(stack, jsii.String("Reporter"), &awslambda.FunctionAttributes{
		FunctionArn: jsii.String("arn:aws:lambda:us-east-1:111111111111:function:reporter"),
		Role: awsiam.Role_FromRoleArn(stack, jsii.String("ReporterRole"),
			jsii.String("arn:aws:iam::111111111111:role/reporter"), nil),
	})
	sub := subscription.NewSubscription(stack, jsii.String("Reporting"), &subscription.SubscriptionProps{
		Stream:            stream,                                  // an eventstream's Stream(), or an imported awskinesis.IStream
		Function:          fn,                                      // any awslambda.IFunction with its role: a function, an alias or a version
		Tier:              subscription.Bulk,                       // Realtime, Standard (default) or Bulk
		MaxBatchingWindow: awscdk.Duration_Minutes(jsii.Number(2)), // Bulk's default is 1 minute
		Filters: &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{
			"data": map[string]interface{}{"type": awslambda.FilterRule_BeginsWith(jsii.String("order-"))},
		})},
	})
	fmt.Println(sub.Tier(), sub.Consumer() == nil)
	// Output: bulk true
}
