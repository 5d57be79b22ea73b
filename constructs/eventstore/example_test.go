package eventstore_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/eventstore"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/subscription"
)

// The platform keeps every event of its stream, read through a dedicated fan-out consumer, and lets an analytics
// role read the store.
func ExampleNewEventStore() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Store"), nil)
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"), jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))

	analyticsRole := awsiam.Role_FromRoleArn(stack, jsii.String("Analytics"), jsii.String("arn:aws:iam::111111111111:role/analytics"), nil)

	store := eventstore.NewEventStore(stack, jsii.String("EventStore"), &eventstore.EventStoreProps{
		Stream: stream, Tier: subscription.Realtime, // its own fan-out consumer: it must keep up
	})
	store.GrantRead(analyticsRole)
	fmt.Println(store.Subscription().Tier())
	// Output: realtime
}
