// Command observer reads the counters on its SQS loop and announces complete data sets (package observer). Deployed
// by constructs/observer.
//
// Environment: TABLE, QUEUE_URL, STRATEGY, DELAY_SECONDS, UNCHANGED, MAX_WAIT_SECONDS, EVENT_BUS, TOPIC_ARN.
package main

import (
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"
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
	unchanged, err1 := strconv.Atoi(os.Getenv("UNCHANGED"))
	maxWait, err2 := strconv.Atoi(os.Getenv("MAX_WAIT_SECONDS"))
	if err1 != nil || err2 != nil || unchanged < 1 || maxWait < 1 {
		lambdamain.Fail(logger, "UNCHANGED and MAX_WAIT_SECONDS must be whole numbers of at least 1", "UNCHANGED", os.Getenv("UNCHANGED"), "MAX_WAIT_SECONDS", os.Getenv("MAX_WAIT_SECONDS"))
	}
	o := &observer.Observer{Settings: settings, Unchanged: unchanged, MaxWait: time.Duration(maxWait) * time.Second,
		Events: eventbridge.NewFromConfig(cfg), Bus: os.Getenv("EVENT_BUS"), Topic: sns.NewFromConfig(cfg), TopicARN: os.Getenv("TOPIC_ARN"), Logger: logger}
	lambda.Start(o.Handle)
}
