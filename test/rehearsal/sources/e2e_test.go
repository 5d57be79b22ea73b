package sources

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/test/moto"
)

const (
	examplesubscriberPkg = "github.com/eventlake/eventlake/lambdas/examplesubscriber"
	laketransformPkg     = "github.com/eventlake/eventlake/lambdas/laketransform"
)

// arrivals reads every record of a stream and returns each one's arrival time in epoch milliseconds and shard, by
// sequence number and shard.
func arrivals(t testing.TB, cfg aws.Config, stream string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	c := kinesis.NewFromConfig(cfg)
	out := map[string]int64{}
	for shard := range shardHashKeys(t, cfg, stream) {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &stream, ShardId: aws.String(shard), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &stream, ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			out[shard+":"+aws.ToString(r.SequenceNumber)] = aws.ToTime(r.ApproximateArrivalTimestamp).UnixMilli()
		}
	}
	return out
}

func TestKinesisExampleSubscriberUnderQEMU(t *testing.T) {
	// GIVEN the blueprint's example subscriber, built as deployed, subscribed by a Custom::EventlakeSubscription
	// with bisect, partial batch failures, one retry and an SQS on-failure destination; and five events of one
	// entity with a record that is not an event in the middle
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	queueURL, queueARN := newQueue(t, cfg, nil)
	fn := newFunction(t, "examplesubscriber", examplesubscriberPkg, nil)
	s, err := KinesisSettingsFrom(map[string]any{
		"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "ServiceTimeout": "660",
		"BatchSize": "10", "BisectBatchOnFunctionError": "true", "Enabled": "true", "EventSourceArn": stream,
		"FunctionName": fn.ARN(), "MaximumBatchingWindowInSeconds": "0", "MaximumRecordAgeInSeconds": "86400",
		"MaximumRetryAttempts": "1", "Metrics": []any{"EventCount"}, "OnFailureDestination": queueARN,
		"ParallelizationFactor": "1", "ReportBatchItemFailures": "true", "StartingPosition": "TRIM_HORIZON",
	})
	if err != nil {
		t.Fatal(err)
	}
	var poison string
	for _, d := range []string{"e1", "e2", "e3", "", "e4", "e5"} {
		data := fmt.Sprintf(`{"id":%q,"type":"order-updated","timestamp":1700000000000,"partitionKey":"order-1"}`, d)
		if d == "" {
			data = "not an event"
		}
		_, seq := put(t, cfg, stream, "order-1", []byte(data), "")
		if d == "" {
			poison = seq
		}
	}
	k, err := NewKinesis(context.Background(), cfg, s, fn, WithLogf(t.Logf), WithRoleARN("arn:aws:iam::123456789012:role/subscriber"))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN the stream is drained
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := k.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("drained in %s: %+v", time.Since(start).Round(time.Millisecond), k.Stats())

	// THEN the subscriber logged the five events once each, in order, and the record that is not an event went to
	// the destination alone after one retry
	var logged []string
	for _, line := range strings.Split(fn.Logs(), "\n") {
		var l struct {
			Msg string `json:"msg"`
			ID  string `json:"id"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "event" {
			logged = append(logged, l.ID)
		}
	}
	if want := []string{"e1", "e2", "e3", "e4", "e5"}; !reflect.DeepEqual(logged, want) {
		t.Errorf("subscriber logged %v, want %v", logged, want)
	}
	if s := k.Stats(); s.Invocations != 5 || s.Succeeded != 5 || s.FailuresSent != 1 || s.Retries != 1 {
		t.Errorf("stats %+v, want 5 invocations, 5 successes, 1 retry, 1 batch given up", s)
	}
	bodies := receiveAll(t, cfg, queueURL)
	if len(bodies) != 1 {
		t.Fatalf("destination got %v", bodies)
	}
	var rec invocationRecord
	json.Unmarshal([]byte(bodies[0]), &rec)
	if b := rec.KinesisBatchInfo; b == nil || b.StartSequenceNumber != poison || b.EndSequenceNumber != poison || rec.RequestContext.FunctionARN != fn.ARN() {
		t.Errorf("invocation record %s", bodies[0])
	}
	if st := fn.Stats(); st.ColdStarts != 1 || st.Invocations != 5 {
		t.Errorf("function stats %+v: want one cold start, 5 invocations", st)
	}
}

func TestFirehoseLakeTransformUnderQEMU(t *testing.T) {
	// GIVEN the lake's transformation, built as deployed, behind the lake's delivery stream on a two-shard stream,
	// and three events and a record that is not JSON written after it starts
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 2)
	bucket := newBucket(t, cfg)
	fn := newFunction(t, "laketransform", laketransformPkg, nil)
	name := uniqueName(t, "lake")
	s := lakeSettings(name, stream, bucket)
	s.Processor.LambdaARN = fn.ARN()
	f := newFirehose(t, cfg, s, fn)
	hash := shardHashKeys(t, cfg, stream)
	var shards []string
	for sh := range hash {
		shards = append(shards, sh)
	}
	written := map[string]string{} // shard:seq → data
	for i, d := range []string{`{"id":"1","type":"thing-created"}`, `{"id":"2", "type":"thing-updated"}`, `not json`, `{"id":"3","type":"thing-deleted"}`} {
		sh, seq := put(t, cfg, stream, fmt.Sprintf("thing-%d", i), []byte(d), hash[shards[i%2]])
		written[sh+":"+seq] = d
	}

	// WHEN the delivery stream is drained
	start := time.Now()
	if err := f.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("drained in %s: %+v", time.Since(start).Round(time.Millisecond), f.Stats())

	// THEN one gzip lake object holds a lake line per event, with the Kinesis metadata of its record
	at := arrivals(t, cfg, stream)
	keys := listKeys(t, cfg, bucket, "events/")
	if len(keys) != 1 || !regexp.MustCompile(`^events/\d{4}/\d{2}/\d{2}/\d{2}/`+regexp.QuoteMeta(name)+`-1-\d{4}(-\d{2}){5}-[0-9a-f-]{36}\.gz$`).MatchString(keys[0]) {
		t.Fatalf("lake objects %v", keys)
	}
	dec, err := lake.NewDecoder(bytes.NewReader(getObject(t, cfg, bucket, keys[0])))
	if err != nil {
		t.Fatal(err)
	}
	lines := 0
	for {
		l, n, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		lines++
		md := l.Metadata
		id := md.ShardID + ":" + md.SequenceNumber
		var want, got any
		json.Unmarshal([]byte(written[id]), &want)
		json.Unmarshal(l.Event, &got)
		if !reflect.DeepEqual(got, want) || md.ApproximateArrivalTimestamp != at[id] || !strings.HasPrefix(md.PartitionKey, "thing-") {
			t.Errorf("line %d: %+v %s; want the record %s arrived at %d", n, md, l.Event, written[id], at[id])
		}
	}
	if lines != 3 {
		t.Errorf("%d lake lines, want 3", lines)
	}

	// AND the record that is not JSON is under the error prefix, as it came
	errKeys := listKeys(t, cfg, bucket, "errors/processing-failed/")
	if len(errKeys) != 1 {
		t.Fatalf("error objects %v", errKeys)
	}
	var doc errorDoc
	json.Unmarshal(gunzip(t, getObject(t, cfg, bucket, errKeys[0])), &doc)
	if raw, _ := base64.StdEncoding.DecodeString(doc.RawData); string(raw) != "not json" || doc.ErrorCode != "Lambda.ProcessingFailedStatus" {
		t.Errorf("error record %+v", doc)
	}
}
