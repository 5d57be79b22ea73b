// Command replay is the deployed replay: one leg of a replay from the data lake into the function or stream it is made
// for, driven by a Step Functions loop past Lambda's 15-minute limit (see constructs/replay and package replay).
//
// The input is a [replay.Job] as JSON, such as {"prefix": "events/2026/11/", "type": "order-*"}. It must name its
// scope (a prefix below the lake prefix, a time range, or "all": true) and may name only this deployment's lake and
// target ([replay.Deployment.Confine]); an input refused is answered, before anything is read or sent, with a
// *replay.InputError, which Lambda reports as the error type "InputError".
//
// Environment: [replay.Config], read by replay.ConfigFromEnv: LAKE_BUCKET (and LAKE_PREFIX), and TARGET_FUNCTION or
// TARGET_STREAM; SOURCE_STREAM_ARN optionally.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
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
	c, err := replay.ConfigFromEnv()
	if err != nil {
		lambdamain.Fail(logger, "configuration", "error", err)
	}
	h := &handler{
		deployment: replay.Deployment{
			Bucket: c.LakeBucket, Prefix: c.LakePrefix, Function: c.TargetFunction, Stream: c.TargetStream,
			SourceARN: c.SourceStreamARN, Region: cfg.Region,
		},
		s3: s3.NewFromConfig(cfg), lambda: lambdaapi.NewFromConfig(cfg), kinesis: kinesis.NewFromConfig(cfg), logger: logger,
	}
	lambda.Start(h.handle)
}

type handler struct {
	deployment replay.Deployment
	s3         replay.S3API
	lambda     replay.LambdaAPI
	kinesis    replay.KinesisAPI
	logger     *slog.Logger
}

// handle runs one leg. A refused input's *replay.InputError is returned as is: Lambda names the error after its type,
// and the state machine fails the execution at once on "InputError" instead of retrying it.
func (h *handler) handle(ctx context.Context, input json.RawMessage) (replay.Job, error) {
	job, err := replay.DecodeJob(input)
	if err == nil {
		job, err = h.deployment.Confine(job)
	}
	if err != nil {
		h.logger.ErrorContext(ctx, "replay input refused; nothing read or sent", "error", err)
		return job, err
	}
	var target replay.Target = &replay.StreamTarget{Client: h.kinesis, StreamARN: job.Stream}
	if job.Function != "" {
		target = &replay.FunctionTarget{Client: h.lambda, Function: job.Function, AsyncLimit: job.AsyncLimit, Sync: job.Sync}
	}
	next, err := replay.RunLeg(ctx, h.s3, target, job, reserve)
	if err != nil {
		h.logger.ErrorContext(ctx, "replay leg failed", "error", err)
		return job, err
	}
	t := next.Totals
	h.logger.InfoContext(ctx, "replay leg", "leg", next.Legs, "done", next.Done, "checkpoint", next.Checkpoint,
		"read", t.Read, "delivered", t.Delivered, "wouldDeliver", t.WouldDeliver, "failed", t.Failed, "malformed", t.Malformed)
	return next, nil
}
