package observer_test

import (
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/observer"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/test/cdktest"
)

// The monitor is given exactly the variables lambdas/monitor reads, and the observer function exactly those
// lambdas/observer reads; they parse, with the props' values.
func TestContracts(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	lake := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	drops := awss3.NewBucket(stack, jsii.String("Drops"), nil)
	bus := awsevents.NewEventBus(stack, jsii.String("Bus"), nil)
	o := observer.NewObserver(stack, jsii.String("Observer"), &observer.ObserverProps{
		Watches: []*observer.WatchProps{
			{Bucket: lake, Prefix: jsii.String("events/"), Depth: jsii.Number(4), Expect: &observer.ExpectProps{}},
			{Bucket: drops},
		},
		Strategy: contract.Exponential, Delay: awscdk.Duration_Minutes(jsii.Number(1)), Unchanged: jsii.Number(contract.MaxUnchanged),
		MaxWait: awscdk.Duration_Days(jsii.Number(14)), EventBus: bus,
	})
	counters := map[string]string{contract.CountersTable: "AWS::DynamoDB::Table", contract.CountersQueueURL: "AWS::SQS::Queue"}

	var m contract.Monitor
	cdktest.CheckContract(t, stack, o.Monitor(), cdktest.Contract{
		Load: func(l contract.Lookup) (err error) { m, err = contract.LoadMonitor(l); return err },
		Refs: map[string]string{contract.CountersTable: "AWS::DynamoDB::Table", contract.CountersQueueURL: "AWS::SQS::Queue",
			contract.MonitorWatches: "AWS::S3::Bucket"},
	})
	wantWatches := []contract.Watch{{Bucket: "resolved-bucket0", Prefix: "events/", Depth: 4}, {Bucket: "resolved-bucket1"}}
	if len(m.Watches) != 2 || m.Watches[0] != wantWatches[0] || m.Watches[1] != wantWatches[1] ||
		m.Strategy != contract.Exponential || m.Delay != time.Minute || m.MarkerTTL != 28*24*time.Hour {
		t.Errorf("the monitor reads %+v; want watches %+v, exponential, 1 minute, markers kept 28 days", m, wantWatches)
	}

	counters[contract.ObserverEventBus] = "AWS::Events::EventBus"
	counters[contract.ObserverTopicARN] = "AWS::SNS::Topic"
	var got contract.Observer
	cdktest.CheckContract(t, stack, o.ObserverFunction(), cdktest.Contract{
		Load: func(l contract.Lookup) (err error) { got, err = contract.LoadObserver(l); return err },
		Refs: counters,
	})
	if got.Unchanged != contract.MaxUnchanged || got.MaxWait != contract.MaxMaxWaitSeconds*time.Second || got.Counters != m.Counters {
		t.Errorf("the observer function reads %+v; want %d unchanged readings, 14 days, and the monitor's %+v", got, contract.MaxUnchanged, m.Counters)
	}
}
