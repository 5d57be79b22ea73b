package producer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/producer"
	"github.com/eventlake/eventlake/test/moto"
)

// callSpy passes the producer's calls on to a Kinesis client and notes, for each PutRecords call, how many entries it
// carried and their size as Kinesis counts it (data and partition key).
type callSpy struct {
	producer.KinesisAPI
	mu      sync.Mutex
	entries []int
	bytes   []int
}

func (s *callSpy) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	size := 0
	for _, e := range in.Records {
		size += len(e.Data) + len(aws.ToString(e.PartitionKey))
	}
	s.mu.Lock()
	s.entries = append(s.entries, len(in.Records))
	s.bytes = append(s.bytes, size)
	s.mu.Unlock()
	return s.KinesisAPI.PutRecords(ctx, in, opts...)
}

// keyed returns one record for each of n keys of keyLen characters, with dataLen bytes of data each.
func keyed(n, keyLen, dataLen int) []producer.Record {
	var records []producer.Record
	for i := range n {
		key := fmt.Sprintf("%0*d", keyLen, i)
		records = append(records, producer.Record{PartitionKey: key, Data: []byte(strings.Repeat("d", dataLen))})
	}
	return records
}

func TestPutBatchFillsEachCallUpTo5MiBCountingThePartitionKeys(t *testing.T) {
	for _, tc := range []struct {
		name    string
		records []producer.Record
		want    []int // entries per PutRecords call
	}{
		// Five records of exactly 1 MiB (the most Kinesis takes in one record) make exactly 5 MiB: one call. The
		// sixth goes in the next.
		{"exactly 5 MiB", append(keyed(5, 16, 1<<20-16), producer.Record{PartitionKey: "small", Data: []byte(`{}`)}), []int{5, 1}},
		// Six records whose data alone fits 5 MiB (6 x 873,700 bytes) but not with their 200-character keys.
		{"keys counted", keyed(6, 200, 873_700), []int{5, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN records of distinct keys, too many bytes for one PutRecords call
			cfg := moto.Config(t)
			kc := kinesis.NewFromConfig(cfg)
			arn := newStream(t, kc, 1)
			spy := &callSpy{KinesisAPI: kc}

			// WHEN they are put
			err := producer.New(spy, arn).PutBatch(bounded(t, 30*time.Second), tc.records)

			// THEN every one is written (Kinesis refuses a call over 5 MiB as a whole)
			if err != nil {
				t.Fatal(err)
			}
			// AND each call carries as many as fit in 5 MiB, keys included
			if fmt.Sprint(spy.entries) != fmt.Sprint(tc.want) {
				t.Errorf("entries per call %v (bytes %v), want %v", spy.entries, spy.bytes, tc.want)
			}
			for i, b := range spy.bytes {
				if b > producer.MaxBatchBytes {
					t.Errorf("call %d carried %d bytes, over the %d-byte limit", i, b, producer.MaxBatchBytes)
				}
			}
		})
	}
}

func TestPutBatchSends500RecordsAtMostPerCall(t *testing.T) {
	// GIVEN 1,001 small records of distinct keys
	cfg := moto.Config(t)
	kc := kinesis.NewFromConfig(cfg)
	arn := newStream(t, kc, 1)
	spy := &callSpy{KinesisAPI: kc}

	// WHEN they are put
	if err := producer.New(spy, arn).PutBatch(bounded(t, 30*time.Second), keyed(1001, 8, 2)); err != nil {
		t.Fatal(err)
	}

	// THEN they go in calls of 500, PutRecords' limit
	if fmt.Sprint(spy.entries) != "[500 500 1]" {
		t.Errorf("entries per call %v, want [500 500 1]", spy.entries)
	}
}

func TestPutBatchOfNothingCallsNothing(t *testing.T) {
	spy := &callSpy{} // no client: a call would panic
	for _, records := range [][]producer.Record{nil, {}} {
		if err := producer.New(spy, "arn:aws:kinesis:us-east-1:123456789012:stream/events").PutBatch(context.Background(), records); err != nil {
			t.Errorf("PutBatch(%#v): %v", records, err)
		}
	}
	if len(spy.entries) != 0 {
		t.Errorf("%d PutRecords calls for no record", len(spy.entries))
	}
}

func TestPutBatchGivesUpARecordLargerThanACallWithKinesissReason(t *testing.T) {
	// GIVEN one record larger than a whole PutRecords call may be
	cfg := moto.Config(t)
	kc := kinesis.NewFromConfig(cfg)
	arn := newStream(t, kc, 1)
	spy := &callSpy{KinesisAPI: kc}
	p := producer.New(spy, arn)
	p.MaxAttempts = 1
	huge := producer.Record{PartitionKey: "big", Data: []byte(strings.Repeat("d", producer.MaxBatchBytes+1))}

	// WHEN it is put
	err := p.PutBatch(bounded(t, 10*time.Second), []producer.Record{huge})

	// THEN it is sent alone, Kinesis refuses it, and PutBatch names it unwritten with Kinesis's reason instead of
	// waiting for room that never comes
	if fmt.Sprint(spy.entries) != "[1]" {
		t.Errorf("entries per call %v, want the record sent once, alone", spy.entries)
	}
	var be *producer.BatchError
	var api smithy.APIError
	if !errors.As(err, &be) || len(be.Unwritten) != 1 || !errors.As(err, &api) || api.ErrorCode() != "InvalidArgumentException" {
		t.Errorf("error %.300v, want the record unwritten with Kinesis's InvalidArgumentException", err)
	}
}
