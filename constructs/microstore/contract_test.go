package microstore_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/microstore"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/test/cdktest"
)

// The listener is given exactly the variables lambdas/microlistener reads, and a trigger exactly those
// lambdas/exampletrigger reads; they parse.
func TestContracts(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	stream := awskinesis.NewStream(stack, jsii.String("Events"), nil)
	trigger := golambda.NewFunction(stack, jsii.String("Logic"), &golambda.FunctionProps{Package: golambda.Handler("exampletrigger")})
	types := []string{"order-*", "payment-settled"}
	store := microstore.NewMicroStore(stack, jsii.String("Orders"), &microstore.MicroStoreProps{
		Stream: stream, Types: types, KeyField: jsii.String("orderId"), RetentionDays: jsii.Number(contract.MaxRetentionDays), Trigger: trigger,
	})
	table := map[string]string{contract.MicroListenerTable: "AWS::DynamoDB::Table"}

	var l contract.MicroListener
	cdktest.CheckContract(t, stack, store.Listener(), cdktest.Contract{
		Load: func(lookup contract.Lookup) (err error) { l, err = contract.LoadMicroListener(lookup); return err },
		Refs: table,
	})
	if !slices.Equal(l.Types, types) || l.KeyField != "orderId" || l.RetentionDays != contract.MaxRetentionDays {
		t.Errorf("the listener reads %+v; want types %v, key field orderId, %d days", l, types, contract.MaxRetentionDays)
	}
	cdktest.CheckContract(t, stack, trigger.(awslambda.Function), cdktest.Contract{
		Load: func(lookup contract.Lookup) error { _, err := contract.LoadMicroTrigger(lookup); return err },
		Refs: map[string]string{contract.MicroTriggerTable: "AWS::DynamoDB::Table"},
	})
}
