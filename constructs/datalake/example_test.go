package datalake_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/constructs/golambda"
)

// A team stack archives the platform's stream, imported by ARN, into its own lake.
func ExampleNewDataLake() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("TeamLake"), nil)

	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"),
		jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	lake := datalake.NewDataLake(stack, jsii.String("Lake"), &datalake.DataLakeProps{
		Stream:            stream,
		Prefix:            jsii.String("orders/"),
		BufferingInterval: awscdk.Duration_Seconds(jsii.Number(60)),
	})

	fmt.Println(*lake.Prefix())
	fmt.Println(len(eventstream.SharedReaders(stream)), "shared reader")
	// Output:
	// orders/
	// 1 shared reader
}
