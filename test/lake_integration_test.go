package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/test/moto"
)

// TestLakeRoundTripThroughMoto puts events on a moto Kinesis stream, hands the records the stream returns to the
// transformation in the shape Firehose sends them, stores the lines as a gzip lake object in moto S3, reads the object
// back and rebuilds the Kinesis records: they must match what the stream returned.
func TestLakeRoundTripThroughMoto(t *testing.T) {
	cfg := moto.Config(t)
	ctx := context.Background()
	kc := kinesis.NewFromConfig(cfg)
	streamName := fmt.Sprintf("events-%d", time.Now().UnixNano())
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &streamName, ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(kc).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &streamName}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	desc, err := kc.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: &streamName})
	if err != nil {
		t.Fatal(err)
	}
	streamARN := *desc.StreamDescription.StreamARN

	// GIVEN events for several entities, and one record that is not JSON
	for i := range 12 {
		key := fmt.Sprintf("thing-%d", i%4)
		data := fmt.Sprintf(`{"id":"e%d","type":"thing-updated","timestamp":%d,"partitionKey":"%s","n":%d}`, i, 1700000000000+i, key, i)
		if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &streamName, PartitionKey: &key, Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := kc.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &streamName, PartitionKey: aws.String("bad"), Data: []byte("not json")}); err != nil {
		t.Fatal(err)
	}

	// WHEN Firehose reads them and calls the transformation (as JSON on the wire, like the real invocation)
	type fromStream struct {
		shard string
		rec   kinesistypes.Record
	}
	var read []fromStream
	for _, sh := range desc.StreamDescription.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: &streamName, ShardId: sh.ShardId, ShardIteratorType: kinesistypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		out, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			read = append(read, fromStream{*sh.ShardId, r})
		}
	}
	if len(read) != 13 {
		t.Fatalf("read %d records from the stream, want 13", len(read))
	}
	type wireMeta struct {
		ShardID                     string `json:"shardId"`
		PartitionKey                string `json:"partitionKey"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		SequenceNumber              string `json:"sequenceNumber"`
		SubsequenceNumber           int64  `json:"subsequenceNumber"`
	}
	type wireRecord struct {
		RecordID string   `json:"recordId"`
		Arrival  int64    `json:"approximateArrivalTimestamp"`
		Data     []byte   `json:"data"`
		Meta     wireMeta `json:"kinesisRecordMetadata"`
	}
	wire := map[string]any{"invocationId": "inv", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake",
		"sourceKinesisStreamArn": streamARN, "region": "us-east-1"}
	var recs []wireRecord
	for i, r := range read {
		ms := r.rec.ApproximateArrivalTimestamp.UnixMilli()
		recs = append(recs, wireRecord{fmt.Sprintf("r%d", i), ms, r.rec.Data,
			wireMeta{r.shard, *r.rec.PartitionKey, ms, *r.rec.SequenceNumber, 0}})
	}
	wire["records"] = recs
	raw, _ := json.Marshal(wire)
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	resp := lake.Transform(ctx, slog.New(slog.NewTextHandler(io.Discard, nil)), in)

	var object bytes.Buffer
	zw := gzip.NewWriter(&object)
	failed := 0
	for _, r := range resp.Records {
		switch r.Result {
		case events.KinesisFirehoseTransformedStateOk:
			zw.Write(r.Data)
		case events.KinesisFirehoseTransformedStateProcessingFailed:
			failed++
		default:
			t.Fatalf("unexpected result %q", r.Result)
		}
	}
	zw.Close()
	if failed != 1 {
		t.Errorf("%d records failed processing, want 1 (the non-JSON one)", failed)
	}

	// AND Firehose writes the lines to the lake bucket under the time-partitioned prefix
	sc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	bucket := fmt.Sprintf("lake-%d", time.Now().UnixNano())
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	key := "events/2026/11/21/22/lake-1-2026-11-21-22-00-00-abc.gz"
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(object.Bytes())}); err != nil {
		t.Fatal(err)
	}

	// THEN the lake object is readable, and every record rebuilt from it matches what the stream returned
	list, err := sc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("events/")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("list: %v, %d objects", err, len(list.Contents))
	}
	obj, err := sc.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: list.Contents[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	dec, err := lake.NewDecoder(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]events.KinesisEventRecord{}
	for {
		l, n, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		r := l.KinesisRecord(lake.Source{StreamARN: streamARN, Region: "us-east-1"})
		got[r.EventID] = r
	}
	var checked []string
	for _, want := range read {
		if !json.Valid(want.rec.Data) {
			continue
		}
		seq := *want.rec.SequenceNumber
		g, ok := got[want.shard+":"+seq]
		if !ok {
			t.Errorf("record %s (%s) is missing from the lake", seq, want.rec.Data)
			continue
		}
		if g.EventID != want.shard+":"+seq || g.EventSourceArn != streamARN || g.EventSource != "aws:kinesis" ||
			g.Kinesis.PartitionKey != *want.rec.PartitionKey || !bytes.Equal(g.Kinesis.Data, want.rec.Data) ||
			g.Kinesis.ApproximateArrivalTimestamp.UnixMilli() != want.rec.ApproximateArrivalTimestamp.UnixMilli() {
			t.Errorf("rebuilt %+v\nfrom stream %s %s %s %s", g, want.shard, seq, *want.rec.PartitionKey, want.rec.Data)
		}
		checked = append(checked, seq)
	}
	sort.Strings(checked)
	if len(checked) != 12 || len(got) != 12 {
		t.Errorf("checked %d records, lake holds %d; want 12 and 12", len(checked), len(got))
	}
}
