// Command pipelinestarter starts the processing state machine for each DataSetReady event (package pipeline).
// Deployed by constructs/pipeline on an EventBridge rule.
//
// Environment: [pipeline.StarterConfig], read by pipeline.StarterConfigFromEnv (STATE_MACHINE_ARN).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/pipeline"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := pipeline.StarterConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	s := &pipeline.Starter{SFN: sfn.NewFromConfig(cfg), StateMachineARN: c.StateMachineARN}
	lambda.Start(s.Handle)
}
