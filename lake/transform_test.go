package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/lake"
)

func loadBatch(t *testing.T) events.KinesisFirehoseEvent {
	t.Helper()
	raw, err := os.ReadFile("testdata/firehose-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestTransformBatch(t *testing.T) {
	// GIVEN a batch with two events, a record that is not JSON and one that is JSON but not an object
	in := loadBatch(t)
	var logs bytes.Buffer

	// WHEN it is transformed
	out := lake.Transform(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)), in)

	// THEN every record is answered, in order, with its own id
	if len(out.Records) != len(in.Records) {
		t.Fatalf("got %d records, want %d", len(out.Records), len(in.Records))
	}
	wantResult := []string{"Ok", "ProcessingFailed", "Ok", "ProcessingFailed"}
	var lines []byte
	for i, r := range out.Records {
		if r.RecordID != in.Records[i].RecordID {
			t.Errorf("record %d: id %q, want %q", i, r.RecordID, in.Records[i].RecordID)
		}
		if r.Result != wantResult[i] {
			t.Errorf("record %d: result %q, want %q", i, r.Result, wantResult[i])
		}
		if r.Result == "Ok" {
			lines = append(lines, r.Data...)
		} else if !bytes.Equal(r.Data, in.Records[i].Data) {
			// AND failed records keep their original data, so the error output holds what the producer sent
			t.Errorf("record %d: failed record data %q, want the original %q", i, r.Data, in.Records[i].Data)
		}
	}
	// AND the Ok records are exactly the golden lake lines (metadata carried, event compacted, no HTML escaping)
	golden, err := os.ReadFile("testdata/firehose-batch.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lines, golden) {
		t.Errorf("lines:\n%s\nwant:\n%s", lines, golden)
	}
	// AND each failure is logged with the record's identity and the reason
	if !bytes.Contains(logs.Bytes(), []byte(`"recordId":"rec-1"`)) || !bytes.Contains(logs.Bytes(), []byte("must be a JSON object")) {
		t.Errorf("log does not name the failed records and why:\n%s", logs.String())
	}
}

func TestTransformEmptyBatch(t *testing.T) {
	out := lake.Transform(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), events.KinesisFirehoseEvent{})
	if out.Records == nil || len(out.Records) != 0 {
		t.Fatalf("got %#v, want an empty, non-nil record list", out.Records)
	}
	raw, _ := json.Marshal(out)
	if string(raw) != `{"records":[]}` {
		t.Errorf("response JSON %s, want {\"records\":[]}", raw)
	}
}

func TestTransformedLineRebuildsTheKinesisRecord(t *testing.T) {
	in := loadBatch(t)
	out := lake.Transform(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), in)
	dec, err := lake.NewDecoder(bytes.NewReader(out.Records[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	got := l.KinesisRecord(lake.Source{StreamARN: in.SourceKinesisStreamArn, Region: in.Region})
	src := in.Records[0]
	if got.EventID != "shardId-000000000001:"+src.KinesisFirehoseRecordMetadata.SequenceNumber ||
		got.EventSource != "aws:kinesis" || got.EventSourceArn != in.SourceKinesisStreamArn ||
		got.Kinesis.PartitionKey != "thing-1" || got.Kinesis.SequenceNumber != src.KinesisFirehoseRecordMetadata.SequenceNumber ||
		!got.Kinesis.ApproximateArrivalTimestamp.Time.Equal(src.KinesisFirehoseRecordMetadata.ApproximateArrivalTimestamp.Time) ||
		!bytes.Equal(got.Kinesis.Data, src.Data) {
		t.Errorf("rebuilt record %+v does not match the source record %+v", got, src)
	}
}
