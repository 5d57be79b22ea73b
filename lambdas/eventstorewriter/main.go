// Command eventstorewriter stores the event stream's events in the event store (package eventstore). Deployed by
// constructs/eventstore, subscribed to the stream.
//
// Environment: TABLE, PAYLOAD_BUCKET, SHARDS.
package main

import (
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/internal/lambdamain"
)

func main() {
	logger, cfg := lambdamain.Setup()
	shards, err := strconv.Atoi(os.Getenv("SHARDS"))
	if err != nil || shards < 1 {
		lambdamain.Fail(logger, "SHARDS must be a whole number of at least 1", "SHARDS", os.Getenv("SHARDS"))
	}
	w := &eventstore.Writer{
		DB: dynamodb.NewFromConfig(cfg), Table: os.Getenv("TABLE"),
		Payloads: s3.NewFromConfig(cfg), Bucket: os.Getenv("PAYLOAD_BUCKET"),
		Shards: shards, Logger: logger,
	}
	lambda.Start(w.Handle)
}
