package golambda_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
)

// One of eventlake's handlers as a function of your own stack, with more memory than the default. Your own handler
// packages work the same way: pass their import path.
func ExampleNewFunction() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)

	fn := golambda.NewFunction(stack, jsii.String("Transform"), &golambda.FunctionProps{
		Package: golambda.Handler("laketransform"),
		Options: &awslambda.FunctionOptions{MemorySize: jsii.Number(512)},
	})
	fmt.Println(*fn.Runtime().Name(), *fn.Architecture().Name())
	// Output: provided.al2023 arm64
}
