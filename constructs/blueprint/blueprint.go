// Package blueprint composes the full eventlake blueprint: every construct of the library, wired as SYSTEM.md
// describes, in environment-agnostic stacks. app.go deploys it; the tests synthesize the very same app.
package blueprint

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/eventstream"
)

// Blueprint holds the stacks of the full system.
type Blueprint struct {
	// Core holds the event stream, which every other stack reads.
	Core awscdk.Stack
	// Lake holds the data lake, fed from the core stack's stream.
	Lake awscdk.Stack
	// Stream is the event stream.
	Stream eventstream.EventStream
	// DataLake is the data lake.
	DataLake datalake.DataLake
}

// New adds the blueprint's stacks to app and checks them with the cdk-nag AwsSolutions and Serverless packs.
func New(app awscdk.App) *Blueprint {
	b := &Blueprint{}
	b.Core = awscdk.NewStack(app, jsii.String("EventlakeCore"), &awscdk.StackProps{
		Description: jsii.String("eventlake: the Kinesis event stream, single source of truth"),
	})
	b.Stream = eventstream.NewEventStream(b.Core, jsii.String("Events"), nil)

	b.Lake = awscdk.NewStack(app, jsii.String("EventlakeLake"), &awscdk.StackProps{
		Description: jsii.String("eventlake: the S3 data lake, written by Firehose from the event stream"),
	})
	b.DataLake = datalake.NewDataLake(b.Lake, jsii.String("DataLake"), &datalake.DataLakeProps{
		Stream: b.Stream.Stream(),
	})

	CheckNag(app)
	return b
}

// CheckNag adds the cdk-nag AwsSolutions and Serverless packs to every stack under scope: an unsuppressed finding is
// an error annotation, which fails `cdk synth`.
func CheckNag(scope awscdk.App) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewServerlessChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}
