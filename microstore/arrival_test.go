package microstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/microstore"
)

// TestEventWithoutTimestampIsKeptAtItsArrivalMillisecond: the listener falls back on the record's arrival time, which
// Lambda sends in float seconds; the stored timestamp is the stream's millisecond, not 1 ms early.
func TestEventWithoutTimestampIsKeptAtItsArrivalMillisecond(t *testing.T) {
	e := newEnv(t)
	l := &microstore.Listener{DB: e.db, Table: e.table, Logger: quiet}
	arrivals := map[string]int64{"1795000000.007": 1795000000007, "1795000000.123": 1795000000123, "1600000000.3": 1600000000300}
	var recs []string
	n := 0
	for js := range arrivals {
		seq := fmt.Sprintf("4959%052d", n)
		data := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf(`{"id":%q,"type":"order-placed","partitionKey":"o-1"}`, js)))
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:kinesis","eventID":"shardId-000000000000:%s","kinesis":{"partitionKey":"o-1",
			"sequenceNumber":"%s","data":%q,"approximateArrivalTimestamp":%s}}`, seq, seq, data, js))
		n++
	}
	var in events.KinesisEvent
	if err := json.Unmarshal([]byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), &in); err != nil {
		t.Fatal(err)
	}
	resp, err := l.Handle(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v, %v", resp.BatchItemFailures, err)
	}
	scan, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &e.table})
	if err != nil {
		t.Fatal(err)
	}
	var items []microstore.Item
	if err := attributevalue.UnmarshalListOfMaps(scan.Items, &items); err != nil {
		t.Fatal(err)
	}
	if len(items) != len(arrivals) {
		t.Fatalf("stored %d items, want %d", len(items), len(arrivals))
	}
	bySeq := map[string]string{}
	for _, r := range in.Records {
		var ev struct{ ID string }
		json.Unmarshal(r.Kinesis.Data, &ev)
		bySeq[ev.ID] = r.Kinesis.SequenceNumber
	}
	for _, it := range items {
		want := arrivals[it.ID]
		if wantPos := fmt.Sprintf("%013d#%s", want, eventstore.Position(bySeq[it.ID], 0)); it.TS != want || it.Pos != wantPos {
			t.Errorf("event arrived at %s s: ts %d, pos %s; want ts %d, pos %s", it.ID, it.TS, it.Pos, want, wantPos)
		}
	}
}
