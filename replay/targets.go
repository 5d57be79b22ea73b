package replay

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/producer"
)

// LambdaAPI is the part of the Lambda API the function target uses.
type LambdaAPI interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// FunctionTarget invokes one function with events.KinesisEvent payloads: Event when the payload fits AsyncLimit
// (unless Sync), RequestResponse up to 6 MB. A RequestResponse answer with a function error is a failure.
type FunctionTarget struct {
	// Client calls Lambda.
	Client LambdaAPI
	// Function is the function's name or ARN, an alias or version included.
	Function string
	// AsyncLimit is the Event payload limit in bytes. Default 1 MiB.
	AsyncLimit int
	// Sync sends everything as RequestResponse.
	Sync bool
}

var (
	payloadStart = []byte(`{"Records":[`)
	payloadEnd   = []byte(`]}`)
)

// Overhead is the size of an empty events.KinesisEvent.
func (t *FunctionTarget) Overhead() int { return len(payloadStart) + len(payloadEnd) }

// Size is the record's JSON and its comma.
func (t *FunctionTarget) Size(r *Record) int { return len(r.JSON) + 1 }

// PackLimit is the async limit, or 6 MB with Sync.
func (t *FunctionTarget) PackLimit() int {
	if t.Sync {
		return SyncLimit
	}
	return t.asyncLimit()
}

// AloneLimit is Lambda's synchronous payload limit.
func (t *FunctionTarget) AloneLimit() int { return SyncLimit }

// MaxRecords is the most records of one Kinesis event source batch.
func (t *FunctionTarget) MaxRecords() int { return MaxBatchSize }

func (t *FunctionTarget) asyncLimit() int {
	if t.AsyncLimit == 0 {
		return DefaultAsyncLimit
	}
	return t.AsyncLimit
}

// Payload is the events.KinesisEvent JSON of a batch.
func Payload(b *Batch) []byte {
	var buf bytes.Buffer
	buf.Grow(b.Bytes)
	buf.Write(payloadStart)
	for i, r := range b.Records {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(r.JSON)
	}
	buf.Write(payloadEnd)
	return buf.Bytes()
}

// Send invokes the function with the batch.
func (t *FunctionTarget) Send(ctx context.Context, b *Batch) (int, error) {
	payload := Payload(b)
	typ := types.InvocationTypeRequestResponse
	if !t.Sync && len(payload) <= t.asyncLimit() {
		typ = types.InvocationTypeEvent
	}
	out, err := t.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &t.Function, InvocationType: typ, Payload: payload})
	if err != nil {
		return 1, fmt.Errorf("invoke %s (%s, %d bytes): %w", t.Function, typ, len(payload), err)
	}
	if out.FunctionError != nil {
		return 1, fmt.Errorf("invoke %s (%s, %d bytes): function error %s: %s", t.Function, typ, len(payload), *out.FunctionError, truncate(out.Payload, 300))
	}
	return 1, nil
}

// Check invokes with DryRun: Lambda checks that the function exists and that the caller may invoke it, and runs
// nothing. The error names the function; a function that does not exist answers *types.ResourceNotFoundException.
func (t *FunctionTarget) Check(ctx context.Context) error {
	_, err := t.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: &t.Function, InvocationType: types.InvocationTypeDryRun})
	if err != nil {
		return fmt.Errorf("function %s: %w", t.Function, err)
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// KinesisAPI is the part of the Kinesis API the stream target uses.
type KinesisAPI interface {
	producer.KinesisAPI
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
}

// StreamTarget writes each event, as it was on the original stream, to a replay stream with its partition key,
// keeping each key's order (package producer).
type StreamTarget struct {
	// Client calls Kinesis.
	Client KinesisAPI
	// StreamARN is the replay stream.
	StreamARN string
	// MaxRecordBytes is the stream's record size limit. Default 1 MiB.
	MaxRecordBytes int
	once           sync.Once
	producer       *producer.Producer
}

// Overhead is zero: PutRecords counts records.
func (t *StreamTarget) Overhead() int { return 0 }

// Size is what PutRecords counts: data and partition key.
func (t *StreamTarget) Size(r *Record) int {
	return len(r.Line.Event) + len(r.Kinesis.Kinesis.PartitionKey)
}

// PackLimit is PutRecords' 5 MB.
func (t *StreamTarget) PackLimit() int { return producer.MaxBatchBytes }

// AloneLimit is one record's limit.
func (t *StreamTarget) AloneLimit() int {
	if t.MaxRecordBytes == 0 {
		return 1 << 20
	}
	return t.MaxRecordBytes
}

// MaxRecords is PutRecords' 500.
func (t *StreamTarget) MaxRecords() int { return producer.MaxBatchRecords }

// Send writes the batch in per-key order.
func (t *StreamTarget) Send(ctx context.Context, b *Batch) (int, error) {
	t.once.Do(func() { t.producer = producer.New(&countingKinesis{t.Client}, t.StreamARN) })
	var calls atomic.Int64 // this batch's calls only: the lanes send at once
	ctx = context.WithValue(ctx, callsKey{}, &calls)
	recs := make([]producer.Record, len(b.Records))
	for i, r := range b.Records {
		recs[i] = producer.Record{PartitionKey: r.Kinesis.Kinesis.PartitionKey, Data: r.Line.Event}
	}
	err := t.producer.PutBatch(ctx, recs)
	return int(calls.Load()), err
}

// Check reads the stream's description (kinesis:DescribeStreamSummary), so that a stream that does not exist
// (*kinesistypes.ResourceNotFoundException) or may not be reached is found before anything is read. The error names
// the stream.
func (t *StreamTarget) Check(ctx context.Context) error {
	_, err := t.Client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(t.StreamARN)})
	if err != nil {
		return fmt.Errorf("stream %s: %w", t.StreamARN, err)
	}
	return nil
}

// callsKey is the context key of the counter of one Send's PutRecords calls.
type callsKey struct{}

// countingKinesis counts each PutRecords call in the counter of the Send it is made for.
type countingKinesis struct {
	producer.KinesisAPI
}

func (c *countingKinesis) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if calls, ok := ctx.Value(callsKey{}).(*atomic.Int64); ok {
		calls.Add(1)
	}
	return c.KinesisAPI.PutRecords(ctx, in, opts...)
}
