package pipeline_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/pipeline"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/test/cdktest"
)

// The starter is given exactly the variables lambdas/pipelinestarter reads, and the Data Pipeline adapter exactly
// those lambdas/datapipeline reads; they parse.
func TestContracts(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	process := awsstepfunctions.NewStateMachine(stack, jsii.String("Process"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(awsstepfunctions.NewPass(stack, jsii.String("Nothing"), nil)),
	})
	p := pipeline.NewPipeline(stack, jsii.String("Reports"), &pipeline.PipelineProps{StateMachine: process, DataPipelineTemplateID: jsii.String("df-0123456789")})

	cdktest.CheckContract(t, stack, p.Starter(), cdktest.Contract{
		Load: func(l contract.Lookup) error { _, err := contract.LoadPipelineStarter(l); return err },
		Refs: map[string]string{contract.PipelineStarterStateMachineARN: "AWS::StepFunctions::StateMachine"},
	})
	var got contract.DataPipeline
	adapter := p.Node().FindChild(jsii.String("DataPipeline")).(awslambda.Function)
	cdktest.CheckContract(t, stack, adapter, cdktest.Contract{
		Load: func(l contract.Lookup) (err error) { got, err = contract.LoadDataPipeline(l); return err },
	})
	if want := (contract.DataPipeline{TemplateID: "df-0123456789", ClonePrefix: contract.DefaultClonePrefix}); got != want {
		t.Errorf("the adapter reads %+v, want %+v", got, want)
	}
}
