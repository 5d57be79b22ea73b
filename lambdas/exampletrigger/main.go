// Command exampletrigger is the blueprint's example service logic on a micro event store: for every key with new
// events it receives the key's whole history and logs a summary. Copy it as the start of your own.
//
// Environment: [microstore.TriggerConfig], read by microstore.TriggerConfigFromEnv (MICROSTORE_TABLE, which
// constructs/microstore sets on each trigger it attaches).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/microstore"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := microstore.TriggerConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	t := &microstore.Trigger{DB: dynamodb.NewFromConfig(cfg), Table: c.Table, Logger: logger}
	lambda.Start(t.Handler(func(ctx context.Context, key string, history []microstore.Item) error {
		if len(history) == 0 {
			return nil // expired by TTL since the INSERT
		}
		last := history[len(history)-1]
		logger.InfoContext(ctx, "history", "key", key, "events", len(history), "latestType", last.Type, "latestId", last.ID)
		return nil
	}))
}
