package lake_test

import (
	"encoding/json"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

func TestKinesisRecordOfABareEventTakesKeyAndTimeFromTheEvent(t *testing.T) {
	// GIVEN a bare event line, which carries no Kinesis metadata
	event := `{"id":"e-1","type":"thing-created","timestamp":1700000000123,"partitionKey":"thing-7"}`
	line := lake.Line{Event: json.RawMessage(event)}

	// WHEN the record a Kinesis-subscribed function receives is rebuilt from it
	rec := line.KinesisRecord(lake.Source{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/events", Region: "us-east-1"})

	// THEN its partition key and arrival time are the event's own, and its data is the event
	if rec.Kinesis.PartitionKey != "thing-7" {
		t.Errorf("partition key %q, want the event's thing-7", rec.Kinesis.PartitionKey)
	}
	if ms := lake.ArrivalMillis(rec.Kinesis.ApproximateArrivalTimestamp); ms != 1700000000123 {
		t.Errorf("arrival %d ms, want the event's timestamp 1700000000123", ms)
	}
	if string(rec.Kinesis.Data) != event || rec.EventSourceArn != "arn:aws:kinesis:us-east-1:123456789012:stream/events" ||
		rec.AwsRegion != "us-east-1" || rec.EventSource != "aws:kinesis" {
		t.Errorf("record %+v does not carry the event and the source", rec)
	}
}

func TestKinesisRecordOfABareEventWithoutAHeaderStillCarriesTheEvent(t *testing.T) {
	// GIVEN a bare event whose contract fields have the wrong types
	event := `{"id":"e-1","timestamp":"yesterday","partitionKey":7}`

	// WHEN its record is rebuilt
	rec := lake.Line{Event: json.RawMessage(event)}.KinesisRecord(lake.Source{})

	// THEN the event still goes out, with no partition key and no arrival time rather than a guess
	if string(rec.Kinesis.Data) != event || rec.Kinesis.PartitionKey != "" || rec.Kinesis.ApproximateArrivalTimestamp.UnixMilli() != 0 {
		t.Errorf("record %+v, want the event with an empty partition key and arrival at the epoch", rec.Kinesis)
	}
}
