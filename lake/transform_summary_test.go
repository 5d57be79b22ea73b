package lake_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

func TestTransformLogsTheBatchSummary(t *testing.T) {
	// GIVEN a batch of four records, two of which are not JSON objects
	in := loadBatch(t)
	var logs bytes.Buffer

	// WHEN it is transformed
	lake.Transform(context.Background(), slog.New(slog.NewJSONHandler(&logs, nil)), in)

	// THEN one summary says how many records came and how many went to the processing-failed output, and names the
	// delivery stream: the operator's count of records the lake did not take
	var summaries []map[string]any
	for sc := bufio.NewScanner(&logs); sc.Scan(); {
		var entry map[string]any
		if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
			t.Fatalf("log line %s: %v", sc.Bytes(), err)
		}
		if entry["msg"] == "transformed batch" {
			summaries = append(summaries, entry)
		}
	}
	if len(summaries) != 1 {
		t.Fatalf("%d batch summaries, want 1:\n%s", len(summaries), logs.String())
	}
	s := summaries[0]
	if s["records"] != 4.0 || s["failed"] != 2.0 || s["deliveryStream"] != in.DeliveryStreamArn {
		t.Errorf("summary records=%v failed=%v deliveryStream=%v, want records=4 failed=2 deliveryStream=%s",
			s["records"], s["failed"], s["deliveryStream"], in.DeliveryStreamArn)
	}
}
