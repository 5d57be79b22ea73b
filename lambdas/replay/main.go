// Command replay is the deployed replay: one leg of a replay from the data lake into the function or stream it is made
// for, driven by a Step Functions loop past Lambda's 15-minute limit (see constructs/replay and package replay).
//
// Environment: LAKE_BUCKET (and LAKE_PREFIX), and TARGET_FUNCTION or TARGET_STREAM; SOURCE_STREAM_ARN optionally.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	lambdaapi "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/internal/lambdamain"
	"github.com/eventlake/eventlake/replay"
)

// reserve is kept back from each leg's deadline to deliver what was read and return the checkpoint.
const reserve = 90 * time.Second

func main() {
	logger, cfg := lambdamain.Setup(config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10; o.MaxBackoff = 20 * time.Second })
	}))
	bucket, prefix := os.Getenv("LAKE_BUCKET"), os.Getenv("LAKE_PREFIX")
	function, stream := os.Getenv("TARGET_FUNCTION"), os.Getenv("TARGET_STREAM")
	var target replay.Target
	s3c := s3.NewFromConfig(cfg)
	lc := lambdaapi.NewFromConfig(cfg)
	kc := kinesis.NewFromConfig(cfg)

	lambda.Start(func(ctx context.Context, job replay.Job) (replay.Job, error) {
		if job.Bucket == "" {
			job.Bucket = bucket
		}
		if job.Bucket != bucket {
			return job, fmt.Errorf("this replay reads the lake bucket %s, not %s", bucket, job.Bucket)
		}
		if job.Prefix == "" {
			job.Prefix = prefix
		}
		if !strings.HasPrefix(job.Prefix, prefix) {
			return job, fmt.Errorf("this replay reads under %q; prefix %q is outside it", prefix, job.Prefix)
		}
		if job.SourceARN == "" {
			job.SourceARN = os.Getenv("SOURCE_STREAM_ARN")
		}
		job.Region = cfg.Region
		switch {
		case function != "" && (job.Function == "" || job.Function == function) && job.Stream == "":
			job.Function = function
			target = &replay.FunctionTarget{Client: lc, Function: function, AsyncLimit: job.AsyncLimit, Sync: job.Sync}
		case stream != "" && (job.Stream == "" || job.Stream == stream) && job.Function == "":
			job.Stream = stream
			target = &replay.StreamTarget{Client: kc, StreamARN: stream}
		default:
			return job, fmt.Errorf("this replay delivers only to %s%s; the job asks for function %q, stream %q", function, stream, job.Function, job.Stream)
		}
		next, err := replay.RunLeg(ctx, s3c, target, job, reserve)
		if err != nil {
			logger.ErrorContext(ctx, "replay leg failed", "error", err)
			return job, err
		}
		logger.InfoContext(ctx, "replay leg", "leg", next.Legs, "done", next.Done, "checkpoint", next.Checkpoint,
			"read", next.Totals.Read, "delivered", next.Totals.Delivered, "wouldDeliver", next.Totals.WouldDeliver,
			"failed", next.Totals.Failed, "malformed", next.Totals.Malformed)
		return next, nil
	})
}
