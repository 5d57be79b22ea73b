// Command monitor counts objects created in watched buckets into the observer's counters and starts observations
// (package observer). Deployed by constructs/observer, reading the queue of S3 "Object Created" events.
//
// Environment: TABLE, QUEUE_URL, WATCHES (JSON list of {bucket, prefix, depth}), STRATEGY, DELAY_SECONDS.
package main

import (
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/internal/observerenv"
	"github.com/eventlake/eventlake/observer"
)

func main() {
	logger, cfg := lambdamain.Setup()
	settings, err := observerenv.Settings(dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg))
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	var watches []observer.Watch
	if err := json.Unmarshal([]byte(os.Getenv("WATCHES")), &watches); err != nil || len(watches) == 0 {
		lambdamain.Fail(logger, "WATCHES must be a JSON list of {bucket, prefix, depth}", "WATCHES", os.Getenv("WATCHES"), "error", err)
	}
	m := &observer.Monitor{Settings: settings, Watches: watches}
	lambda.Start(m.HandleSQS)
}
