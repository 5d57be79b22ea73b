// Command pipelinestarter starts the processing state machine for each DataSetReady event (package pipeline).
// Deployed by constructs/pipeline on an EventBridge rule.
//
// Environment: STATE_MACHINE_ARN.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/pipeline"
)

func main() {
	_, cfg := lambdamain.Setup()
	s := &pipeline.Starter{SFN: sfn.NewFromConfig(cfg), StateMachineARN: os.Getenv("STATE_MACHINE_ARN")}
	lambda.Start(s.Handle)
}
