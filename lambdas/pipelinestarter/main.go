// Command pipelinestarter starts the processing state machine for each DataSetReady event (package pipeline).
// Deployed by constructs/pipeline on an EventBridge rule.
//
// Environment: STATE_MACHINE_ARN.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/eventlake/eventlake/pipeline"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	s := &pipeline.Starter{SFN: sfn.NewFromConfig(cfg), StateMachineARN: os.Getenv("STATE_MACHINE_ARN")}
	lambda.Start(s.Handle)
}
