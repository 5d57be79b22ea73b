package microstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/internal/batchwrite/batchwritetest"
	"github.com/eventlake/eventlake/microstore"
)

// fakeListener is a listener writing to a fake table that, as DynamoDB, rejects a call with two requests for one
// key; its log lines are kept.
func fakeListener(db *batchwritetest.Fake) (*microstore.Listener, *bytes.Buffer) {
	db.KeyAttrs = []string{microstore.AttrKey, microstore.AttrPos}
	var logs bytes.Buffer
	return &microstore.Listener{DB: db, Table: "orders-store", Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, &logs
}

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

func orders(ns ...int) events.KinesisEvent {
	var in events.KinesisEvent
	for _, n := range ns {
		in.Records = append(in.Records, rec(n, ev(n, "order-placed", "a")))
	}
	return in
}

func TestListenerReportsDynamoDBsErrorWithEveryRecord(t *testing.T) {
	tooLarge := batchwritetest.APIError("ValidationException", "Item size has exceeded the maximum allowed size")
	db := &batchwritetest.Fake{Fail: func(int, []map[string]types.AttributeValue) error { return tooLarge }}
	l, logs := fakeListener(db)
	in := orders(1, 2, 3)
	// A record the service does not keep comes first: it is not reported.
	in.Records = append([]events.KinesisEventRecord{rec(0, ev(0, "user-signed-up", "a"))}, in.Records...)
	l.Types = []string{"order-*"}

	resp, err := l.Handle(context.Background(), in)

	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != in.Records[1].Kinesis.SequenceNumber {
		t.Errorf("response %+v, %v; want the first order reported", resp, err)
	}
	if db.Calls() != 1 {
		t.Errorf("%d calls, want 1: the error is not retried", db.Calls())
	}
	lines := logLines(t, logs)
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want one per order:\n%s", len(lines), logs)
	}
	for i, line := range lines {
		msg, _ := line["error"].(string)
		if line["sequenceNumber"] != in.Records[i+1].Kinesis.SequenceNumber || !strings.Contains(msg, "ValidationException") ||
			!strings.Contains(msg, "Item size has exceeded the maximum allowed size") {
			t.Errorf("log line %v, want order %d with the ValidationException", line, i+1)
		}
	}
}

func TestListenerRetriesRecordsLeftUnprocessed(t *testing.T) {
	db := &batchwritetest.Fake{Unprocessed: func(call int, item map[string]types.AttributeValue) bool {
		return call == 1 && batchwritetest.S(item, "id") != "e1"
	}}
	l, logs := fakeListener(db)
	resp, err := l.Handle(context.Background(), orders(1, 2, 3))
	if err != nil || len(resp.BatchItemFailures) != 0 || logs.Len() != 0 {
		t.Fatalf("response %+v, %v, logs %s; want no failure", resp, err, logs)
	}
	if db.Calls() != 2 || len(db.Items()) != 3 {
		t.Errorf("%d calls, %d items; want the 2 records left unprocessed written by a second call", db.Calls(), len(db.Items()))
	}
}

func TestListenerReportsARecordLeftUnprocessedEveryTime(t *testing.T) {
	db := &batchwritetest.Fake{Unprocessed: func(_ int, item map[string]types.AttributeValue) bool {
		return batchwritetest.S(item, "id") == "e2"
	}}
	l, logs := fakeListener(db)
	l.MaxAttempts = 2
	in := orders(1, 2, 3)
	resp, _ := l.Handle(context.Background(), in)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != in.Records[1].Kinesis.SequenceNumber {
		t.Errorf("failures %+v, want e2's record", resp.BatchItemFailures)
	}
	if db.Calls() != 2 || len(db.Items()) != 2 {
		t.Errorf("%d calls, %d items; want 2 calls (MaxAttempts) and the 2 other records written", db.Calls(), len(db.Items()))
	}
	lines := logLines(t, logs)
	if len(lines) != 1 || lines[0]["sequenceNumber"] != in.Records[1].Kinesis.SequenceNumber ||
		lines[0]["error"] != "table orders-store: DynamoDB left the item unprocessed after 2 attempts" {
		t.Errorf("log %s, want e2's record left unprocessed after 2 attempts", logs)
	}
}

func TestListenerMergesARecordDeliveredTwiceInOneBatch(t *testing.T) {
	// The fake, as DynamoDB, rejects a call with two requests for one key.
	db := &batchwritetest.Fake{}
	l, logs := fakeListener(db)
	resp, err := l.Handle(context.Background(), orders(1, 2, 1, 3, 2))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("response %+v, %v, logs %s; want no failure", resp, err, logs)
	}
	if db.Calls() != 1 || len(db.Items()) != 3 {
		t.Errorf("%d calls, %d items; want the 3 distinct records in one call", db.Calls(), len(db.Items()))
	}
}
