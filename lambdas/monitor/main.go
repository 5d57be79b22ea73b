// Command monitor counts objects created in watched buckets into the observer's counters, each object once, starts
// observations, and expects data sets on a watch's schedule (package observer). Deployed by constructs/observer,
// reading the queue of S3 "Object Created" events and expectations.
//
// Environment: TABLE, QUEUE_URL, WATCHES (JSON list of {bucket, prefix, depth}), STRATEGY, DELAY_SECONDS, and
// MARKER_TTL_SECONDS (how long an object is remembered; default observer.DefaultRemember).
package main

import (
	"encoding/json"
	"os"
	"strconv"
	"time"

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
	remember := observer.DefaultRemember
	if v := os.Getenv("MARKER_TTL_SECONDS"); v != "" {
		s, err := strconv.Atoi(v)
		if err != nil || s < 1 {
			lambdamain.Fail(logger, "MARKER_TTL_SECONDS must be a whole number of at least 1", "MARKER_TTL_SECONDS", v)
		}
		remember = time.Duration(s) * time.Second
	}
	m := &observer.Monitor{Settings: settings, Watches: watches, Remember: remember, Logger: logger}
	lambda.Start(m.HandleSQS)
}
