package microstore_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/microstore"
)

// The shipping service keeps the order and payment events it needs, keyed by order, and runs its logic on each
// order's whole history (its function built from its own module's handler package).
func ExampleNewMicroStore() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Shipping"), nil)
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"), jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	logic := golambda.NewFunction(stack, jsii.String("Logic"), &golambda.FunctionProps{Package: golambda.Handler("exampletrigger")})

	store := microstore.NewMicroStore(stack, jsii.String("ShippingStore"), &microstore.MicroStoreProps{
		Stream:   stream,
		Types:    []string{"order-*", "payment-settled"}, // also filtered by Lambda before the listener runs
		KeyField: jsii.String("orderId"),                 // a correlation key; default: the event's partitionKey
		Trigger:  logic,                                  // your function
	})
	fmt.Println(*store.Table().Node().Id())
	// Output: Table
}
