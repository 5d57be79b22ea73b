package lake_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/lake"
)

// kinesisRecord decodes a Lambda Kinesis event record whose approximateArrivalTimestamp is the JSON number ts, as
// Lambda delivers it.
func kinesisRecord(t *testing.T, ts string) events.KinesisEventRecord {
	t.Helper()
	var rec events.KinesisEventRecord
	raw := `{"eventSource":"aws:kinesis","kinesis":{"partitionKey":"k","sequenceNumber":"1","data":"e30=","approximateArrivalTimestamp":` + ts + `}}`
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return rec
}

func TestArrivalMillisRoundsTheSecondsToTheStreamsMillisecond(t *testing.T) {
	tests := []struct {
		json      string
		want      int64
		truncates bool // UnixMilli gives want-1: the float parses just below the millisecond
	}{
		{"1700000000.123", 1700000000123, true}, // parses to 1700000000.122999906
		{"1700000000.001", 1700000000001, true}, // 1700000000.000999927
		{"1795000000.007", 1795000000007, true}, // 1795000000.006999969
		{"1600000000.3", 1600000000300, true},   // 1600000000.299999952
		{"1700002799.999", 1700002799999, false},
		{"1763719200.555", 1763719200555, false}, // parses just above: truncation happens to be right
		{"1700000000.5", 1700000000500, false},
		{"1700000000", 1700000000000, false},
		{"1.7e9", 1700000000000, false},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			ts := kinesisRecord(t, tt.json).Kinesis.ApproximateArrivalTimestamp
			if got := lake.ArrivalMillis(ts); got != tt.want {
				t.Errorf("ArrivalMillis(%s) = %d, want %d", tt.json, got, tt.want)
			}
			if got := lake.ArrivalTime(ts); !got.Equal(time.UnixMilli(tt.want)) {
				t.Errorf("ArrivalTime(%s) = %s, want %s", tt.json, got.UTC().Format(time.RFC3339Nano), time.UnixMilli(tt.want).UTC().Format(time.RFC3339Nano))
			}
			// The case shows the defect: truncation is 1 ms early.
			if truncated := ts.UnixMilli(); (truncated == tt.want-1) != tt.truncates {
				t.Errorf("%s: UnixMilli gives %d; the table says truncation is wrong: %t", tt.json, truncated, tt.truncates)
			}
		})
	}
}

func TestArrivalMillisIsExactForEveryMillisecond(t *testing.T) {
	// Every millisecond of a second, at epochs from 2001 to 2286: rounding recovers each one; truncation does not.
	truncatedWrong := 0
	for _, sec := range []int64{1000000000, 1700000000, 1795000000, 2147483647, 9999999999} {
		for ms := range int64(1000) {
			js := fmt.Sprintf("%d.%03d", sec, ms)
			ts := kinesisRecord(t, js).Kinesis.ApproximateArrivalTimestamp
			want := sec*1000 + ms
			if got := lake.ArrivalMillis(ts); got != want {
				t.Fatalf("ArrivalMillis(%s) = %d, want %d", js, got, want)
			}
			if ts.UnixMilli() != want {
				truncatedWrong++
			}
		}
	}
	if truncatedWrong == 0 {
		t.Error("no value truncated wrong: the test no longer shows the defect")
	}
	t.Logf("%d of 5000 values truncate 1 ms early", truncatedWrong)
}

func TestArrivalOfAReplayedRecordIsTheLinesMillisecond(t *testing.T) {
	// A replay rebuilds the record from the lake line's milliseconds and sends it as JSON, in seconds: the target
	// must read back the line's value.
	for ms := int64(1700000000000); ms < 1700000000000+1000; ms++ {
		rec := lake.Line{Metadata: &lake.Metadata{SequenceNumber: "1", PartitionKey: "k", ApproximateArrivalTimestamp: ms},
			Event: json.RawMessage(`{}`)}.KinesisRecord(lake.Source{})
		raw, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		var got events.KinesisEventRecord
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		if a := lake.ArrivalMillis(got.Kinesis.ApproximateArrivalTimestamp); a != ms {
			t.Fatalf("line at %d ms arrives at %d ms after the JSON round trip (%s)", ms, a, raw)
		}
	}
}

func TestArrivalTimeOfTheZeroTimeIsZero(t *testing.T) {
	if got := lake.ArrivalTime(events.SecondsEpochTime{}); !got.IsZero() {
		t.Errorf("ArrivalTime of the zero time = %s, want the zero time", got)
	}
}
