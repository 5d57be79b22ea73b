package subscriber_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/subscriber"
)

func TestAFailureIsLoggedWithTheRecordAndHowManyLambdaRetries(t *testing.T) {
	// GIVEN a batch of four records whose second one the function cannot handle, and a logger of the caller's
	var logs bytes.Buffer
	h := subscriber.Handler(func(_ context.Context, ev subscriber.Event) error {
		if ev.ID == "poison" {
			return errors.New("cannot handle")
		}
		return nil
	}, subscriber.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	// WHEN the batch is handled
	_, err := h(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{
		record("1", `{"id":"a"}`), record("2", `{"id":"poison"}`), record("3", `{"id":"c"}`), record("4", `{"id":"d"}`),
	}})
	if err != nil {
		t.Fatal(err)
	}

	// THEN the caller's logger gets one warning naming the record, its key, the error, and the three records Lambda
	// hands over again (the failed one and the two after it)
	var entries []map[string]any
	for sc := bufio.NewScanner(&logs); sc.Scan(); {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %s: %v", sc.Bytes(), err)
		}
		entries = append(entries, e)
	}
	if len(entries) != 1 {
		t.Fatalf("%d log entries, want 1:\n%s", len(entries), logs.String())
	}
	want := map[string]any{
		"level": "WARN", "msg": "handling the event failed", "eventID": "shardId-0:2", "sequenceNumber": "2",
		"partitionKey": "k", "remaining": 3.0, "error": "cannot handle",
	}
	for k, v := range want {
		if entries[0][k] != v {
			t.Errorf("log %s = %v, want %v", k, entries[0][k], v)
		}
	}
}

func TestARecordThatIsNotAnEventSaysWhy(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "record is not an event: data is not JSON (0 bytes)"},
		{"not json", "record is not an event: data is not JSON (8 bytes)"},
		{`{"id":7}`, "record is not an event: json: cannot unmarshal number"},
	} {
		// GIVEN a record whose data is not an event WHEN it is decoded
		_, err := subscriber.Decode(record("1", tc.data))

		// THEN the error is ErrNotAnEvent and says what is wrong without quoting the data
		if !errors.Is(err, subscriber.ErrNotAnEvent) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("data %q: error %v, want %q", tc.data, err, tc.want)
		}
	}
}
