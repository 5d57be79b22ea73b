// Command eventstorewriter stores the event stream's events in the event store (package eventstore). Deployed by
// constructs/eventstore, subscribed to the stream.
//
// Environment: [eventstore.Config], read by eventstore.ConfigFromEnv (TABLE, PAYLOAD_BUCKET, SHARDS).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/internal/lambdamain"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := eventstore.ConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	w := &eventstore.Writer{
		DB: dynamodb.NewFromConfig(cfg), Table: c.Table,
		Payloads: s3.NewFromConfig(cfg), Bucket: c.PayloadBucket,
		Shards: c.Shards, Logger: logger,
	}
	lambda.Start(w.Handle)
}
