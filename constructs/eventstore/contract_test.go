package eventstore_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/eventstore"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/test/cdktest"
)

// The writer is given exactly the variables lambdas/eventstorewriter reads, and they parse.
func TestWriterContract(t *testing.T) {
	for _, shards := range []*float64{nil, jsii.Number(contract.MaxShards)} {
		app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
		stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
		stream := awskinesis.NewStream(stack, jsii.String("Events"), nil)
		store := eventstore.NewEventStore(stack, jsii.String("Store"), &eventstore.EventStoreProps{Stream: stream, Shards: shards})
		var got contract.EventStore
		cdktest.CheckContract(t, stack, store.Writer(), cdktest.Contract{
			Load: func(l contract.Lookup) (err error) { got, err = contract.LoadEventStore(l); return err },
			Refs: map[string]string{contract.EventStoreTable: "AWS::DynamoDB::Table", contract.EventStorePayloadBucket: "AWS::S3::Bucket"},
		})
		want := contract.DefaultShards
		if shards != nil {
			want = int(*shards)
		}
		if got.Shards != want {
			t.Errorf("Shards %v: the writer reads %d shards, want %d", shards, got.Shards, want)
		}
	}
}
