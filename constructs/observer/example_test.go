package observer_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/observer"
	"github.com/eventlake/eventlake/constructs/pipeline"
	rt "github.com/eventlake/eventlake/observer"
)

// Every day's folder of a partner's drop bucket is a data set: ready after 5 quiet readings, polled ever faster.
func ExampleNewObserver() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Ingest"), nil)
	drops := awss3.Bucket_FromBucketName(stack, jsii.String("Drops"), jsii.String("partner-drops"))

	o := observer.NewObserver(stack, jsii.String("DropsObserver"), &observer.ObserverProps{
		Watches:   []*observer.WatchProps{{Bucket: drops, Prefix: jsii.String("incoming/"), Depth: jsii.Number(1)}},
		Strategy:  rt.Reciprocal,
		Delay:     awscdk.Duration_Minutes(jsii.Number(5)),
		Unchanged: jsii.Number(5),
	})
	fmt.Println(*o.Topic().Node().Id())
	// Output: Ready
}

// The blueprint's flow: every hour of the lake is a data set. The observer expects each hour, so one that never
// arrives is announced too (DataSetTimedOut), and a pipeline processes each hour once it is complete.
func ExampleNewObserver_lakeHours() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Lake"), nil)
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"), jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	lake := datalake.NewDataLake(stack, jsii.String("Lake"), &datalake.DataLakeProps{Stream: stream})
	process := awsstepfunctions.StateMachine_FromStateMachineName(stack, jsii.String("Process"), jsii.String("process-hour"))

	obs := observer.NewObserver(stack, jsii.String("LakeObserver"), &observer.ObserverProps{
		Watches: []*observer.WatchProps{{
			Bucket: lake.Bucket(), Prefix: lake.Prefix(),
			Depth:  jsii.Number(4),          // YYYY/MM/DD/HH: one hour per data set
			Expect: &observer.ExpectProps{}, // expect every hour at minute 5, before its first object
		}},
		Strategy:  rt.Constant,                             // or rt.Reciprocal, rt.Exponential
		Delay:     awscdk.Duration_Minutes(jsii.Number(2)), // d
		Unchanged: jsii.Number(4),                          // N: 8 quiet minutes, more than the lake's 5 between objects
	})
	pipeline.NewPipeline(stack, jsii.String("HourPipeline"), &pipeline.PipelineProps{
		StateMachine: process, EventBus: obs.EventBus(),
	})
	fmt.Println(*obs.Topic().Node().Id())
	// Output: Ready
}
