package pipeline_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/pipeline"
)

// Each ready data set starts the team's state machine once; people subscribed to Topic() hear how each run ended.
func ExampleNewPipeline() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Reports"), nil)
	process := awsstepfunctions.StateMachine_FromStateMachineName(stack, jsii.String("Process"), jsii.String("build-reports"))

	p := pipeline.NewPipeline(stack, jsii.String("Reports"), &pipeline.PipelineProps{StateMachine: process})
	fmt.Println(*p.Starter().Node().Id())
	// Output: Starter
}
