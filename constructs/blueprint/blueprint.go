// Package blueprint composes the full eventlake blueprint: every construct of the library, wired as docs/design.md
// describes, in environment-agnostic stacks. app.go deploys it; the tests synthesize the very same app.
package blueprint

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/eventstore"
	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/internal/deps"
	"github.com/eventlake/eventlake/constructs/microstore"
	"github.com/eventlake/eventlake/constructs/observer"
	"github.com/eventlake/eventlake/constructs/pipeline"
	"github.com/eventlake/eventlake/constructs/replay"
	"github.com/eventlake/eventlake/constructs/subscription"
	"github.com/eventlake/eventlake/contract"
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
	// Subscribers holds example subscribers of the stream, one per priority tier.
	Subscribers awscdk.Stack
	// Subscriptions are the example subscriptions, by tier.
	Subscriptions map[subscription.Tier]subscription.Subscription
	// Replay replays the lake into the example Projections subscriber, as when seeding a new service.
	Replay replay.Replay
	// Store holds the event store.
	Store awscdk.Stack
	// EventStore keeps every event beyond the stream's retention.
	EventStore eventstore.EventStore
	// Orders is an example service with its micro event store and its trigger.
	Orders microstore.MicroStore
	// Observer knows when an hour of the lake is complete.
	Observer observer.Observer
	// Pipeline processes each complete hour with an example state machine and tells people when it ends.
	Pipeline pipeline.Pipeline
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

	// lake → observer → pipeline → notification: every complete hour of the lake is processed. Every hour is also
	// expected (at minute 5, UTC), so an hour that never arrives ends in a DataSetTimedOut instead of going unnoticed.
	// Firehose writes an hour's objects one buffering interval (300 s) apart. An hour is complete only after a quiet
	// window longer than that, or it would complete, and run its pipeline, after every flush: Constant readings 2
	// minutes apart, 4 in a row without a change, make 8 minutes.
	b.Observer = observer.NewObserver(b.Lake, jsii.String("LakeObserver"), &observer.ObserverProps{
		Watches: []*observer.WatchProps{{Bucket: b.DataLake.Bucket(), Prefix: b.DataLake.Prefix(), Depth: jsii.Number(4),
			Expect: &observer.ExpectProps{}}},
		Strategy:  contract.Constant,
		Delay:     awscdk.Duration_Minutes(jsii.Number(2)),
		Unchanged: jsii.Number(4),
	})
	processLogs := awslogs.NewLogGroup(b.Lake, jsii.String("ProcessHourLogs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_THREE_MONTHS})
	process := awsstepfunctions.NewStateMachine(b.Lake, jsii.String("ProcessHour"), &awsstepfunctions.StateMachineProps{
		Comment: jsii.String("Example processing of a complete hour of the lake"),
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(
			awsstepfunctions.NewPass(b.Lake, jsii.String("Process"), &awsstepfunctions.PassProps{Comment: jsii.String("Your processing goes here")}).
				Next(awsstepfunctions.NewSucceed(b.Lake, jsii.String("Processed"), nil))),
		TracingEnabled: jsii.Bool(true),
		Logs:           &awsstepfunctions.LogOptions{Destination: processLogs, Level: awsstepfunctions.LogLevel_ALL},
	})
	deps.DropRole(process, process.Role())
	cdknag.NagSuppressions_AddResourceSuppressions(process.Role(), &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Step Functions' CloudWatch Logs delivery and X-Ray actions support no resource-level permissions."),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	b.Pipeline = pipeline.NewPipeline(b.Lake, jsii.String("HourPipeline"), &pipeline.PipelineProps{
		StateMachine: process, EventBus: b.Observer.EventBus(),
	})

	b.Subscribers = awscdk.NewStack(app, jsii.String("EventlakeSubscribers"), &awscdk.StackProps{
		Description: jsii.String("eventlake: example subscribers of the event stream, one per priority tier"),
	})
	b.Subscriptions = map[subscription.Tier]subscription.Subscription{}
	subscribers := map[subscription.Tier]awslambda.IFunction{}
	for _, s := range []struct {
		id   string
		tier subscription.Tier
	}{{"Notifications", subscription.Realtime}, {"Projections", subscription.Standard}, {"Analytics", subscription.Bulk}} {
		fn := golambda.NewFunction(b.Subscribers, jsii.String(s.id), &golambda.FunctionProps{
			Package: golambda.Handler("examplesubscriber"),
			Options: &awslambda.FunctionOptions{Description: jsii.String("Example " + string(s.tier) + " subscriber: logs each event")},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("Serverless-LambdaDLQ"),
			Reason: jsii.String("Invoked synchronously by its event source mapping, which sends failed batches to the subscription's on-failure destination; a DLQ applies to asynchronous invocations only."),
		}}, jsii.Bool(false))
		subscribers[s.tier] = fn
		b.Subscriptions[s.tier] = subscription.NewSubscription(b.Subscribers, jsii.String(s.id+"Subscription"), &subscription.SubscriptionProps{
			Stream: b.Stream.Stream(), Function: fn, Tier: s.tier,
		})
	}

	b.Replay = replay.NewReplay(b.Subscribers, jsii.String("ProjectionsReplay"), &replay.ReplayProps{
		Bucket:       b.DataLake.Bucket(),
		Prefix:       b.DataLake.Prefix(),
		Function:     subscribers[subscription.Standard],
		SourceStream: b.Stream.Stream(),
	})

	b.Store = awscdk.NewStack(app, jsii.String("EventlakeStore"), &awscdk.StackProps{
		Description: jsii.String("eventlake: the DynamoDB event store, fed from the event stream"),
	})
	// The event store must keep up with every event: it reads through its own enhanced fan-out consumer.
	b.EventStore = eventstore.NewEventStore(b.Store, jsii.String("EventStore"), &eventstore.EventStoreProps{
		Stream: b.Stream.Stream(), Tier: subscription.Realtime,
	})

	orders := golambda.NewFunction(b.Subscribers, jsii.String("OrdersLogic"), &golambda.FunctionProps{
		Package: golambda.Handler("exampletrigger"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Example service logic on a micro event store: sees each order's whole history")},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(orders, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("Serverless-LambdaDLQ"),
		Reason: jsii.String("Invoked synchronously by its DynamoDB stream mapping, which sends failed batches to the micro store's failure queue; a DLQ applies to asynchronous invocations only."),
	}}, jsii.Bool(false))
	b.Orders = microstore.NewMicroStore(b.Subscribers, jsii.String("OrdersStore"), &microstore.MicroStoreProps{
		Stream: b.Stream.Stream(), Types: []string{"order-*"}, Trigger: orders,
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
