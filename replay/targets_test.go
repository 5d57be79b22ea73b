package replay_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// invocationTypes records the invocation type of each Invoke call a Lambda client makes.
type invocationTypes struct {
	mu    sync.Mutex
	types []string
}

func (r *invocationTypes) install(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RecordInvocationType", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if inv, ok := in.Parameters.(*lambda.InvokeInput); ok {
			r.mu.Lock()
			r.types = append(r.types, string(inv.InvocationType))
			r.mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// batchOf is a batch of n records of one small event.
func batchOf(n int) *replay.Batch {
	b := &replay.Batch{}
	for range n {
		b.Records = append(b.Records, &replay.Record{JSON: []byte(`{"eventSource":"aws:kinesis"}`)})
	}
	return b
}

func TestAnEventInvocationCarriesPayloadsUpToTheAsyncLimit(t *testing.T) {
	cfg := moto.Config(t)
	moto.LambdaWithoutDocker(t)
	fn := moto.NewFunction(t, cfg, fmt.Sprintf("limit-%d", time.Now().UnixNano()))
	rec := &invocationTypes{}
	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, rec.install) })
	b := batchOf(3)
	size := len(replay.Payload(b))
	for _, c := range []struct {
		limit int
		sync  bool
		want  string
	}{
		{size, false, "Event"},               // at the limit
		{size - 1, false, "RequestResponse"}, // a byte over it
		{size, true, "RequestResponse"},      // Sync: always
	} {
		rec.types = nil
		calls, err := (&replay.FunctionTarget{Client: client, Function: fn, AsyncLimit: c.limit, Sync: c.sync}).Send(context.Background(), b)
		if err != nil || calls != 1 || fmt.Sprint(rec.types) != "["+c.want+"]" {
			t.Errorf("a payload of %d bytes, async limit %d, sync %v: %d calls %v (%v); want one %s", size, c.limit, c.sync, calls, rec.types, err, c.want)
		}
	}
	// A failed invocation names the function, the invocation type and the payload size. (Lambda refuses an Event
	// invocation of a function that does not exist; moto accepts it.)
	notFound := &fault.Injector{Operation: "Invoke", Fault: fault.JSONError(404, "ResourceNotFoundException", "Function not found: missing-function")}
	client = lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, notFound.Install) })
	_, err := (&replay.FunctionTarget{Client: client, Function: "missing-function"}).Send(context.Background(), b)
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("invoke missing-function (Event, %d bytes): ", size)) {
		t.Errorf("an invocation of a missing function: %v", err)
	}
}

// functionError answers an Invoke as Lambda does when the function fails: 200, X-Amz-Function-Error, and the
// function's error as the payload.
func functionError(payload string) fault.Fault {
	return func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"X-Amz-Function-Error": {"Unhandled"}, "Content-Type": {"application/json"}, "X-Amzn-Requestid": {"fault-injected"}},
			Body:   io.NopCloser(strings.NewReader(payload)), ContentLength: int64(len(payload)), Request: req}, nil
	}
}

func TestAFunctionErrorIsAFailureThatQuotesUpTo300BytesOfIt(t *testing.T) {
	cfg := moto.Config(t)
	b := batchOf(1)
	for _, c := range []struct {
		payload, quoted string
	}{
		{strings.Repeat("e", 300), strings.Repeat("e", 300)},
		{strings.Repeat("e", 300) + "f", strings.Repeat("e", 300) + "…"},
	} {
		inj := &fault.Injector{Operation: "Invoke", Fault: functionError(c.payload)}
		client := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, inj.Install) })
		_, err := (&replay.FunctionTarget{Client: client, Function: "projector", Sync: true}).Send(context.Background(), b)
		want := fmt.Sprintf("invoke projector (RequestResponse, %d bytes): function error Unhandled: %s", len(replay.Payload(b)), c.quoted)
		if err == nil || err.Error() != want {
			t.Errorf("a function error of %d bytes: %v; want %q", len(c.payload), err, want)
		}
	}
}

func TestAStreamTargetCountsEveryPutRecordsCallItsRetriesIncluded(t *testing.T) {
	// GIVEN a replay stream whose first PutRecords call fails one record (a shard over its limit, which moto never
	// answers), so that the producer sends it again
	cfg := moto.Config(t)
	name := fmt.Sprintf("replay-%d", time.Now().UnixNano())
	kc := kinesis.NewFromConfig(cfg)
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	d, _ := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	failOne := fault.FailRecords(func(call, i int, _ ktypes.PutRecordsRequestEntry) bool { return call == 1 && i == 0 })
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, failOne.Install) })

	// WHEN 40 events of 40 keys are replayed into it in batches of 5, over the default 4 lanes at once
	sum, err := replay.RunSource(context.Background(), unitsOf(lakeLines(0, 40, 40)), &replay.StreamTarget{Client: client, StreamARN: *d.StreamDescriptionSummary.StreamARN},
		replay.Options{BatchSize: 5}, nil, nil)

	// THEN every event is delivered, and the summary counts one call per batch, and one more: the retry
	if err != nil || sum.Delivered != 40 || sum.Batches < 8 || sum.Invocations != sum.Batches+1 {
		t.Errorf("summary %+v (%v); want 40 delivered, and a PutRecords call per batch and one for the retry", sum, err)
	}
	// AND a stream that does not exist is found by the check, before anything is read
	src := unitsOf(lakeLines(0, 3, 1))
	missing := "arn:aws:kinesis:us-east-1:123456789012:stream/missing"
	_, err = replay.RunSource(context.Background(), src, &replay.StreamTarget{Client: kc, StreamARN: missing}, replay.Options{}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "stream "+missing+": ") || len(src.after) != 0 {
		t.Errorf("a replay into a missing stream: %v; want the check to name it, nothing read", err)
	}
}
