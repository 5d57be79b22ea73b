// Command mapper is the Custom::EventlakeSubscription handler: it manages the Lambda event source mappings of the
// subscriptions in one stack (see package mapping). Deployed by constructs/subscription, one per stack.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eventlake/eventlake/customresource"
	"github.com/eventlake/eventlake/mapping"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRetryer(func() aws.Retryer { return mapping.NewRetryer(20 * time.Second) }))
	if err != nil {
		logger.Error("load AWS configuration", "error", err)
		os.Exit(1)
	}
	m := &mapping.Mapper{Client: lambdaapi.NewFromConfig(cfg), Logger: logger}
	lambda.Start(customresource.Wrap(m.Handle, customresource.Options{Logger: logger}))
}
