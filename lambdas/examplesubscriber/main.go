// Command examplesubscriber is the blueprint's example subscriber: it logs each event it receives, through package
// subscriber (ordered, with partial batch failures). Copy it as the start of your own.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/eventlake/eventlake/subscriber"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(subscriber.Handler(func(ctx context.Context, ev subscriber.Event) error {
		logger.InfoContext(ctx, "event", "id", ev.ID, "type", ev.Type, "partitionKey", ev.PartitionKey,
			"sequenceNumber", ev.Record.Kinesis.SequenceNumber)
		return nil
	}, subscriber.Options{Logger: logger}))
}
