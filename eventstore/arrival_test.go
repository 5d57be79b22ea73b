package eventstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
)

// TestArrivalIsStoredToTheMillisecond decodes a Kinesis event as Lambda sends it, arrival times in float seconds, and
// checks the stored arrival and byTime sort key are the stream's millisecond — not 1 ms early, as truncating the
// parsed float puts about half of all records — and that a time range whose edges are that millisecond finds them.
func TestArrivalIsStoredToTheMillisecond(t *testing.T) {
	s := newStore(t)
	arrivals := []struct {
		json string
		ms   int64
	}{
		{"1795000000.007", 1795000000007},
		{"1795000000.123", 1795000000123},
		{"1795001234.001", 1795001234001},
		{"1795003199.3", 1795003199300}, // the last second of an hour
	}
	var recs []string
	for n, a := range arrivals {
		seq := fmt.Sprintf("4959%052d", n)
		data := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"id":"e%d","type":"thing-updated","partitionKey":"thing-%d"}`, n, n))
		recs = append(recs, fmt.Sprintf(`{"eventSource":"aws:kinesis","eventID":"shardId-000000000001:%s","kinesis":{"kinesisSchemaVersion":"1.0",
			"partitionKey":"thing-%d","sequenceNumber":"%s","data":%q,"approximateArrivalTimestamp":%s}}`, seq, n, seq, data, a.json))
	}
	var in events.KinesisEvent
	if err := json.Unmarshal([]byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), &in); err != nil {
		t.Fatal(err)
	}
	truncatedWrong := 0
	for i, a := range arrivals {
		if in.Records[i].Kinesis.ApproximateArrivalTimestamp.UnixMilli() != a.ms {
			truncatedWrong++
		}
	}
	if truncatedWrong == 0 {
		t.Fatal("no arrival time of the test truncates wrong: it no longer shows the defect")
	}

	resp, err := s.writer.Handle(context.Background(), in)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v, %v", resp.BatchItemFailures, err)
	}

	for i, a := range arrivals {
		rec := in.Records[i].Kinesis
		pos := eventstore.Position(rec.SequenceNumber, 0)
		out, err := s.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &s.table, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: rec.PartitionKey}, "sk": &types.AttributeValueMemberS{Value: pos}}})
		if err != nil || out.Item == nil {
			t.Fatalf("record %d: item not found (%v)", i, err)
		}
		arrival := out.Item["arrival"].(*types.AttributeValueMemberN).Value
		tsk := out.Item["tsk"].(*types.AttributeValueMemberS).Value
		tpk := out.Item["tpk"].(*types.AttributeValueMemberS).Value
		arrivedAt := time.UnixMilli(a.ms)
		if arrival != fmt.Sprint(a.ms) || tsk != eventstore.TimeSK(arrivedAt, pos) ||
			tpk != eventstore.TimePK(arrivedAt.Truncate(time.Hour), eventstore.Shard(rec.PartitionKey, eventstore.DefaultShards)) {
			t.Errorf("record %d arrived at %s s: stored arrival %s, tsk %s, tpk %s; want arrival %d, tsk %s, tpk %s", i, a.json,
				arrival, tsk, tpk, a.ms, eventstore.TimeSK(arrivedAt, pos),
				eventstore.TimePK(arrivedAt.Truncate(time.Hour), eventstore.Shard(rec.PartitionKey, eventstore.DefaultShards)))
		}

		// A time range of exactly that millisecond finds the event, with that arrival.
		var got []eventstore.Event
		if err := s.reader.TimeRange(context.Background(), arrivedAt, arrivedAt, 0, func(e eventstore.Event) error {
			got = append(got, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].ID != fmt.Sprintf("e%d", i) || !got[0].Arrival.Equal(arrivedAt) {
			t.Errorf("time range [%d ms, %d ms] returned %+v, want event e%d arrived at that millisecond", a.ms, a.ms, got, i)
		}
	}
}
