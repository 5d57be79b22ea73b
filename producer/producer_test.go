package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eventlake/eventlake/producer"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func newStream(t *testing.T, kc *kinesis.Client, shards int32) string {
	name := fmt.Sprintf("produce-%d", time.Now().UnixNano())
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	d, err := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return *d.StreamDescriptionSummary.StreamARN
}

// readAll returns the data of every record on the stream, shard by shard, in stream order.
func readAll(t *testing.T, kc *kinesis.Client, arn string) [][]byte {
	ctx := context.Background()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, sh := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			res, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &arn, ShardIterator: iter, Limit: aws.Int32(1000)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Records {
				out = append(out, r.Data)
			}
			if len(res.Records) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out
}

func TestPutBatchKeepsEachKeysOrderUnderPartialFailures(t *testing.T) {
	cfg := moto.Config(t)
	kc := kinesis.NewFromConfig(cfg)
	arn := newStream(t, kc, 3)
	// Kinesis fails some entries of a call under throttling, writing the others: every entry at an odd position on
	// its first attempt, and every third entry of every third call.
	seen := map[string]int{}
	throttled := fault.FailRecords(func(call, i int, e types.PutRecordsRequestEntry) bool {
		seen[string(e.Data)]++
		return (seen[string(e.Data)] == 1 && i%2 == 1) || (call%3 == 0 && i%3 == 0)
	})
	client := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, throttled.Install) })
	p := producer.New(client, arn)
	p.MaxBackoff = 20 * time.Millisecond

	var records []producer.Record
	for i := range 300 {
		key := fmt.Sprintf("entity-%d", i%7)
		records = append(records, producer.Record{PartitionKey: key, Data: []byte(fmt.Sprintf(`{"partitionKey":%q,"n":%d}`, key, i))})
	}
	if err := p.PutBatch(bounded(t, time.Minute), records); err != nil {
		t.Fatal(err)
	}
	if n := throttled.Applied("PutRecords"); n < 10 {
		t.Fatalf("only %d calls had entries failed", n)
	}

	last := map[string]int{}
	count := 0
	for _, data := range readAll(t, kc, arn) {
		var ev struct {
			PartitionKey string
			N            int
		}
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Fatal(err)
		}
		if prev, ok := last[ev.PartitionKey]; ok && ev.N <= prev {
			t.Errorf("%s: event %d after event %d", ev.PartitionKey, ev.N, prev)
		}
		last[ev.PartitionKey] = ev.N
		count++
	}
	if count != len(records) {
		t.Errorf("stream holds %d records, want %d exactly once each", count, len(records))
	}
}

func TestPutBatchGivesUpAndNamesWhatItDidNotWrite(t *testing.T) {
	cfg := moto.Config(t)
	kc := kinesis.NewFromConfig(cfg)
	arn := newStream(t, kc, 1)
	down := fault.FailRecords(func(int, int, types.PutRecordsRequestEntry) bool { return true })
	p := producer.New(kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, down.Install) }), arn)
	p.MaxAttempts, p.MaxBackoff = 3, time.Millisecond
	err := p.PutBatch(bounded(t, time.Minute), []producer.Record{{"a", []byte("1")}, {"a", []byte("2")}})
	be, ok := err.(*producer.BatchError)
	if !ok || len(be.Unwritten) != 2 {
		t.Fatalf("error %v, want both records named unwritten", err)
	}
}

func TestPutChainsSequenceNumbersPerKey(t *testing.T) {
	cfg := moto.Config(t)
	kc := kinesis.NewFromConfig(cfg)
	arn := newStream(t, kc, 1)
	var seqs []string
	client := &recordingPut{Client: kc, ordering: &seqs}
	p := producer.New(client, arn)
	for i := range 3 {
		if _, err := p.Put(context.Background(), "order-1", map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seqs) != 3 || seqs[0] != "" || seqs[1] == "" || seqs[2] == "" || seqs[1] == seqs[2] {
		t.Errorf("SequenceNumberForOrdering per call %q: want none, then the previous record's", seqs)
	}
}

type recordingPut struct {
	*kinesis.Client
	ordering *[]string
}

func (r *recordingPut) PutRecord(ctx context.Context, in *kinesis.PutRecordInput, opts ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
	*r.ordering = append(*r.ordering, aws.ToString(in.SequenceNumberForOrdering))
	return r.Client.PutRecord(ctx, in, opts...)
}
