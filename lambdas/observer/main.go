// Command observer reads the counters on its SQS loop and announces complete data sets (package observer). Deployed
// by constructs/observer.
//
// Environment: [observer.ObserverConfig], read by observer.ObserverConfigFromEnv (TABLE, QUEUE_URL, STRATEGY,
// DELAY_SECONDS, UNCHANGED, MAX_WAIT_SECONDS, EVENT_BUS, TOPIC_ARN).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/observer"
)

func main() {
	logger, cfg := lambdamain.Setup()
	c, err := observer.ObserverConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	o := &observer.Observer{Settings: observer.Settings{DB: dynamodb.NewFromConfig(cfg), Table: c.Table, Queue: sqs.NewFromConfig(cfg),
		QueueURL: c.QueueURL, Strategy: c.Strategy, Delay: c.Delay}, Unchanged: c.Unchanged, MaxWait: c.MaxWait,
		Events: eventbridge.NewFromConfig(cfg), Bus: c.EventBus, Topic: sns.NewFromConfig(cfg), TopicARN: c.TopicARN, Logger: logger}
	lambda.Start(o.Handle)
}
