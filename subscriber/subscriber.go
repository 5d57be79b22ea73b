// Package subscriber runs a function of yours on each event of a Kinesis batch and reports partial batch failures,
// so that one poison record never blocks a shard.
//
// Records are handled in order. At the first record that fails — its data is not an event, or your function returns
// an error — the handler stops and reports that record in batchItemFailures: Lambda retries from it, and the records
// after it (which may be of the same entity) never overtake it. With the subscription's bisect, finite retries and
// on-failure destination (constructs/subscription), a record that keeps failing ends up in the destination and the
// shard moves on. The handler also stops a little before the function's deadline and reports the first record it did
// not reach, instead of timing out and having the whole batch retried.
//
// Reporting batch item failures: https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
package subscriber

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/lake"
)

// Event is one event of the stream, with the record that carried it.
type Event struct {
	lake.Header
	// Data is the whole event, as the producer wrote it.
	Data json.RawMessage
	// Record is the Kinesis record.
	Record events.KinesisEventRecord
}

// Func handles one event. Make it idempotent: the stream delivers at least once, and a retried batch is handed over
// again from its first failed record.
type Func func(ctx context.Context, ev Event) error

// Options tune [Handler].
type Options struct {
	// Logger logs failed records. Default slog.Default().
	Logger *slog.Logger
	// Reserve is the time before the function's deadline at which the handler stops taking records. Default 2 s.
	Reserve time.Duration
}

// ErrNotAnEvent wraps the reason a record's data is not an event.
var ErrNotAnEvent = errors.New("record is not an event")

// Handler returns the Lambda handler for a Kinesis subscription with ReportBatchItemFailures.
func Handler(fn Func, opts Options) func(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Reserve == 0 {
		opts.Reserve = 2 * time.Second
	}
	return func(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
		deadline, hasDeadline := ctx.Deadline()
		for i, rec := range in.Records {
			fail := func(reason string, err error) (events.KinesisEventResponse, error) {
				opts.Logger.WarnContext(ctx, reason, "eventID", rec.EventID, "sequenceNumber", rec.Kinesis.SequenceNumber,
					"partitionKey", rec.Kinesis.PartitionKey, "remaining", len(in.Records)-i, "error", err)
				return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{
					{ItemIdentifier: rec.Kinesis.SequenceNumber},
				}}, nil
			}
			if hasDeadline && time.Until(deadline) < opts.Reserve {
				return fail("stopping before the deadline; Lambda retries from this record", ctx.Err())
			}
			ev, err := Decode(rec)
			if err != nil {
				return fail("record is not an event", err)
			}
			if err := fn(ctx, ev); err != nil {
				return fail("handling the event failed", err)
			}
		}
		return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}, nil
	}
}

// Decode reads the event a record carries.
func Decode(rec events.KinesisEventRecord) (Event, error) {
	data := rec.Kinesis.Data
	if len(data) == 0 || !json.Valid(data) {
		return Event{}, fmt.Errorf("%w: data is not JSON (%d bytes)", ErrNotAnEvent, len(data))
	}
	var h lake.Header
	if err := json.Unmarshal(data, &h); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrNotAnEvent, err)
	}
	if h.PartitionKey == "" {
		h.PartitionKey = rec.Kinesis.PartitionKey
	}
	return Event{Header: h, Data: data, Record: rec}, nil
}
