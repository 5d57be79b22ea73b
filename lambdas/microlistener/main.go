// Command microlistener stores the events a service cares about in its micro event store (package microstore).
// Deployed by constructs/microstore, subscribed to the event stream.
//
// Environment: TABLE, TYPES (comma-separated patterns), KEY_FIELD, RETENTION_DAYS.
package main

import (
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/microstore"
)

func main() {
	logger, cfg := lambdamain.Setup()
	days, err := strconv.Atoi(os.Getenv("RETENTION_DAYS"))
	if err != nil || days < 1 {
		lambdamain.Fail(logger, "RETENTION_DAYS must be a whole number of at least 1", "RETENTION_DAYS", os.Getenv("RETENTION_DAYS"))
	}
	var types []string
	if t := os.Getenv("TYPES"); t != "" {
		types = strings.Split(t, ",")
	}
	l := &microstore.Listener{DB: dynamodb.NewFromConfig(cfg), Table: os.Getenv("TABLE"), Types: types,
		KeyField: os.Getenv("KEY_FIELD"), RetentionDays: days, Logger: logger}
	lambda.Start(l.Handle)
}
