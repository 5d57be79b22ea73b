package eventstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/internal/batchwrite"
	"github.com/eventlake/eventlake/internal/batchwrite/batchwritetest"
)

// fakeWriter is a writer to a fake table that, as DynamoDB, rejects a call with two requests for one key; its log
// lines are kept.
func fakeWriter(db *batchwritetest.Fake) (*eventstore.Writer, *bytes.Buffer) {
	db.KeyAttrs = []string{eventstore.AttrPK, eventstore.AttrSK}
	var logs bytes.Buffer
	return &eventstore.Writer{DB: db, Table: "events", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, &logs
}

// logLines decodes the JSON log lines.
func logLines(t *testing.T, logs *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for l := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

func batchOf(ns ...int) events.KinesisEvent {
	var in events.KinesisEvent
	for _, n := range ns {
		in.Records = append(in.Records, record(n, fmt.Sprintf("thing-%d", n), ""))
	}
	return in
}

func TestWriterReportsDynamoDBsErrorWithEveryRecord(t *testing.T) {
	denied := batchwritetest.APIError("AccessDeniedException",
		"User: arn:aws:sts::123456789012:assumed-role/writer/fn is not authorized to perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/events")
	db := &batchwritetest.Fake{Fail: func(int, []map[string]types.AttributeValue) error { return denied }}
	w, logs := fakeWriter(db)
	in := batchOf(0, 1, 2, 3, 4)

	resp, err := w.Handle(context.Background(), in)

	// The batch is retried from its first record, after exactly one call: the error is not retried.
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != in.Records[0].Kinesis.SequenceNumber {
		t.Errorf("response %+v, %v; want the first record reported", resp, err)
	}
	if db.Calls() != 1 {
		t.Errorf("%d calls, want 1", db.Calls())
	}
	// Every record is logged with DynamoDB's error.
	lines := logLines(t, logs)
	if len(lines) != len(in.Records) {
		t.Fatalf("%d log lines, want one per record:\n%s", len(lines), logs)
	}
	for i, l := range lines {
		msg, _ := l["error"].(string)
		if l["sequenceNumber"] != in.Records[i].Kinesis.SequenceNumber || !strings.Contains(msg, "AccessDeniedException") ||
			!strings.Contains(msg, "not authorized to perform: dynamodb:BatchWriteItem") {
			t.Errorf("log line %v, want record %d with the access denied error", l, i)
		}
	}
	// Write returns the first record's error, DynamoDB's.
	first, err := w.Write(context.Background(), in.Records)
	var apiErr smithy.APIError
	if first != 0 || !errors.Is(err, denied) || !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("Write: %d, %v; want 0 and the access denied error", first, err)
	}
}

func TestWriterRetriesRecordsLeftUnprocessed(t *testing.T) {
	db := &batchwritetest.Fake{Unprocessed: func(call int, item map[string]types.AttributeValue) bool {
		return call == 1 && batchwritetest.S(item, "pk") != "thing-0"
	}}
	w, logs := fakeWriter(db)
	resp, err := w.Handle(context.Background(), batchOf(0, 1, 2, 3))
	if err != nil || len(resp.BatchItemFailures) != 0 || logs.Len() != 0 {
		t.Fatalf("response %+v, %v, logs %s; want no failure", resp, err, logs)
	}
	if db.Calls() != 2 || len(db.Items()) != 4 {
		t.Errorf("%d calls, %d items; want the 3 records left unprocessed written by a second call", db.Calls(), len(db.Items()))
	}
}

func TestWriterReportsARecordLeftUnprocessedEveryTime(t *testing.T) {
	db := &batchwritetest.Fake{Unprocessed: func(_ int, item map[string]types.AttributeValue) bool {
		return batchwritetest.S(item, "pk") == "thing-2"
	}}
	w, logs := fakeWriter(db)
	w.MaxAttempts = 2
	in := batchOf(0, 1, 2, 3)
	resp, _ := w.Handle(context.Background(), in)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != in.Records[2].Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want record 2", resp.BatchItemFailures)
	}
	if db.Calls() != 2 || len(db.Items()) != 3 {
		t.Errorf("%d calls, %d items; want 2 calls (MaxAttempts) and the 3 other records written", db.Calls(), len(db.Items()))
	}
	lines := logLines(t, logs)
	if len(lines) != 1 || lines[0]["sequenceNumber"] != in.Records[2].Kinesis.SequenceNumber ||
		lines[0]["error"] != "table events: DynamoDB left the item unprocessed after 2 attempts" {
		t.Errorf("log %s, want record 2 left unprocessed after 2 attempts", logs)
	}
}

func TestWriterMergesARecordDeliveredTwiceInOneBatch(t *testing.T) {
	// The fake, as DynamoDB, rejects a call with two requests for one key.
	db := &batchwritetest.Fake{}
	w, logs := fakeWriter(db)
	in := batchOf(0, 1, 0, 2, 1, 1)
	resp, err := w.Handle(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %+v, %v, logs %s; want no failure", resp, err, logs)
	}
	if db.Calls() != 1 || len(db.Items()) != 3 {
		t.Errorf("%d calls, %d items; want the 3 distinct records in one call", db.Calls(), len(db.Items()))
	}
}

func TestWriterMergesAcrossChunks(t *testing.T) {
	// 60 records then the same 60 again: 60 items, in 3 calls of at most 25.
	var ns []int
	for range 2 {
		for n := range 60 {
			ns = append(ns, n)
		}
	}
	db := &batchwritetest.Fake{}
	w, logs := fakeWriter(db)
	if first, err := w.Write(context.Background(), batchOf(ns...).Records); first != -1 || err != nil {
		t.Fatalf("Write: %d, %v, logs %s; want -1, nil", first, err, logs)
	}
	if want := (60 + batchwrite.Max - 1) / batchwrite.Max; db.Calls() != want || len(db.Items()) != 60 {
		t.Errorf("%d calls, %d items; want %d calls, 60 items", db.Calls(), len(db.Items()), want)
	}
}
