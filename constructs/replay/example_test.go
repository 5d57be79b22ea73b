package replay_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/replay"
)

// A service team seeds its new service from the platform's lake: the deployed replay may read the lake and invoke
// only that service's function.
func ExampleNewReplay() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Orders"), nil)

	lake := awss3.Bucket_FromBucketName(stack, jsii.String("Lake"), jsii.String("eventlake-lake"))
	projector := awslambda.Function_FromFunctionAttributes(stack, jsii.String("Projector"), &awslambda.FunctionAttributes{
		FunctionArn: jsii.String("arn:aws:lambda:us-east-1:111111111111:function:orders-projector"),
		Role:        awsiam.Role_FromRoleArn(stack, jsii.String("ProjectorRole"), jsii.String("arn:aws:iam::111111111111:role/orders-projector"), nil),
	})
	r := replay.NewReplay(stack, jsii.String("SeedOrders"), &replay.ReplayProps{
		Bucket:   lake,                   // the lake's bucket: the replay may read only under Prefix
		Prefix:   jsii.String("events/"), // the lake's prefix
		Function: projector,              // the one function it may deliver to (or Stream: a replay stream)
	})
	fmt.Println(*r.StateMachine().Node().Id())
	// Output: StateMachine
}
