package producer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eventlake/eventlake/producer"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// bounded returns the test's context, ended after d: a PutBatch that never ends fails its test instead of hanging
// the package.
func bounded(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// throttledProducer returns a producer whose every PutRecords entry fails as Kinesis fails it under throttling, and
// the behaviour, which counts the calls.
func throttledProducer(t *testing.T) (*producer.Producer, *fault.Behaviour) {
	t.Helper()
	cfg := moto.Config(t)
	arn := newStream(t, kinesis.NewFromConfig(cfg), 1)
	down := fault.FailRecords(func(int, int, types.PutRecordsRequestEntry) bool { return true })
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, down.Install) })
	return producer.New(client, arn), down
}

func TestPutBatchSendsARecordMaxAttemptsTimes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxAttempts int
		want        int
	}{{"default", 0, 10}, {"three", 3, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a stream that refuses every record
			p, down := throttledProducer(t)
			p.MaxAttempts, p.MaxBackoff = tc.maxAttempts, time.Millisecond

			// WHEN two records of one key are put
			err := p.PutBatch(bounded(t, 30*time.Second), []producer.Record{{PartitionKey: "a", Data: []byte(`{"n":1}`)}, {PartitionKey: "a", Data: []byte(`{"n":2}`)}})

			// THEN the first is sent MaxAttempts times (10 by default), the second never overtakes it, and both are
			// named unwritten with Kinesis's reason
			if n := down.Applied("PutRecords"); n != tc.want {
				t.Errorf("%d PutRecords calls, want %d", n, tc.want)
			}
			var be *producer.BatchError
			if !errors.As(err, &be) || len(be.Unwritten) != 2 || string(be.Unwritten[0].Data) != `{"n":1}` {
				t.Fatalf("error %v, want both records unwritten, in order", err)
			}
			want := "2 records not written: record 0 (key a): ProvisionedThroughputExceededException: Rate exceeded"
			if got := err.Error(); !strings.HasPrefix(got, want) {
				t.Errorf("error %q, want it to start %q", got, want)
			}
		})
	}
}

func TestPutBatchDefaultBackoffSpacesTheAttempts(t *testing.T) {
	// GIVEN a stream that refuses every record, the default backoff (a random wait of up to 2 s, then up to 4 s, then
	// 5 s) and 300 ms to go
	p, down := throttledProducer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	// WHEN a record is put
	err := p.PutBatch(ctx, []producer.Record{{PartitionKey: "a", Data: []byte(`{}`)}})

	// THEN the stream is not hammered: at most three attempts fit before the deadline
	if n := down.Applied("PutRecords"); n < 1 || n > 3 {
		t.Errorf("%d PutRecords calls in 300 ms, want 1 to 3", n)
	}
	// AND PutBatch stops at the deadline, naming the record unwritten and why it stopped
	var be *producer.BatchError
	if !errors.As(err, &be) || len(be.Unwritten) != 1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the record unwritten for the deadline", err)
	}
}
