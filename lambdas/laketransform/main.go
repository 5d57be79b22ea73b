// Command laketransform is the data lake's Firehose transformation: it turns Kinesis records into lake lines
// (see package lake). Deployed by constructs/datalake.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/eventlake/eventlake/lake"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	lambda.Start(func(ctx context.Context, in events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
		return lake.Transform(ctx, logger, in), nil
	})
}
