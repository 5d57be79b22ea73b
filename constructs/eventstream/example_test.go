package eventstream_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/eventstream"
)

// A provisioned event stream that keeps a week of events, and a producer allowed to write to it.
func ExampleNewEventStream() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Core"), nil)

	events := eventstream.NewEventStream(stack, jsii.String("Events"), &eventstream.EventStreamProps{
		StreamProps: &awskinesis.StreamProps{
			StreamMode:      awskinesis.StreamMode_PROVISIONED,
			ShardCount:      jsii.Number(2),
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(7)),
		},
		IteratorAgeThreshold: awscdk.Duration_Minutes(jsii.Number(10)),
	})

	producer := awsiam.Role_FromRoleArn(stack, jsii.String("Producer"),
		jsii.String("arn:aws:iam::111111111111:role/orders-service"), nil)
	events.GrantWrite(producer)

	fmt.Println(*events.Retention().ToHours(nil), "hours")
	fmt.Println(*events.IteratorAgeAlarm().Node().Id())
	// Output:
	// 168 hours
	// IteratorAgeAlarm
}
