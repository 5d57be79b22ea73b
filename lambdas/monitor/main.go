// Command monitor counts objects created in watched buckets into the observer's counters, each object once, starts
// observations, and expects data sets on a watch's schedule (package observer). Deployed by constructs/observer,
// reading the queue of S3 "Object Created" events and expectations.
//
// Environment: [observer.MonitorConfig], read by observer.MonitorConfigFromEnv (TABLE, QUEUE_URL, WATCHES as a JSON
// list of {bucket, prefix, depth}, STRATEGY, DELAY_SECONDS, and MARKER_TTL_SECONDS: how long an object is remembered,
// default observer.DefaultRemember).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/observer"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := observer.MonitorConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	m := &observer.Monitor{Settings: observer.Settings{DB: dynamodb.NewFromConfig(cfg), Table: c.Table, Queue: sqs.NewFromConfig(cfg),
		QueueURL: c.QueueURL, Strategy: c.Strategy, Delay: c.Delay}, Watches: c.Watches, Remember: c.MarkerTTL, Logger: logger}
	lambda.Start(m.HandleSQS)
}
