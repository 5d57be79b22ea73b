// Command mapper is the Custom::EventlakeSubscription handler: it manages the Lambda event source mappings of the
// subscriptions in one stack (see package mapping). Deployed by constructs/subscription, one per stack.
package main

import (
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eventlake/eventlake/customresource"
	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/mapping"
)

func main() {
	logger, cfg := lambdamain.Setup(config.WithRetryer(func() aws.Retryer { return mapping.NewRetryer(20 * time.Second) }))
	m := &mapping.Mapper{Client: lambdaapi.NewFromConfig(cfg), Logger: logger}
	lambda.Start(customresource.Wrap(m.Handle, customresource.Options{Logger: logger}))
}
