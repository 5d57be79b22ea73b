// Command microlistener stores the events a service cares about in its micro event store (package microstore).
// Deployed by constructs/microstore, subscribed to the event stream.
//
// Environment: [microstore.ListenerConfig], read by microstore.ListenerConfigFromEnv (TABLE, TYPES as comma-separated
// patterns, KEY_FIELD, RETENTION_DAYS).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/microstore"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := microstore.ListenerConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	l := &microstore.Listener{DB: dynamodb.NewFromConfig(cfg), Table: c.Table, Types: c.Types,
		KeyField: c.KeyField, RetentionDays: c.RetentionDays, Logger: logger}
	lambda.Start(l.Handle)
}
