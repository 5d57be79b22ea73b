// Command eventstorewriter stores the event stream's events in the event store (package eventstore). Deployed by
// constructs/eventstore, subscribed to the stream.
//
// Environment: TABLE, PAYLOAD_BUCKET, SHARDS.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	shards, err := strconv.Atoi(os.Getenv("SHARDS"))
	if err != nil || shards < 1 {
		logger.Error("SHARDS must be a whole number of at least 1", "SHARDS", os.Getenv("SHARDS"))
		os.Exit(1)
	}
	w := &eventstore.Writer{
		DB: dynamodb.NewFromConfig(cfg), Table: os.Getenv("TABLE"),
		Payloads: s3.NewFromConfig(cfg), Bucket: os.Getenv("PAYLOAD_BUCKET"),
		Shards: shards, Logger: logger,
	}
	lambda.Start(w.Handle)
}
