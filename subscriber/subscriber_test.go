package subscriber_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/subscriber"
)

func record(seq, data string) events.KinesisEventRecord {
	return events.KinesisEventRecord{EventID: "shardId-0:" + seq, Kinesis: events.KinesisRecord{SequenceNumber: seq, PartitionKey: "k", Data: []byte(data)}}
}

var quiet = subscriber.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

func TestStopsAtTheFirstFailureAndReportsIt(t *testing.T) {
	batch := events.KinesisEvent{Records: []events.KinesisEventRecord{
		record("1", `{"id":"a","type":"t","partitionKey":"k"}`),
		record("2", `{"id":"poison","type":"t"}`),
		record("3", `{"id":"c","type":"t"}`),
	}}
	var seen []string
	h := subscriber.Handler(func(_ context.Context, ev subscriber.Event) error {
		seen = append(seen, ev.ID)
		if ev.ID == "poison" {
			return errors.New("cannot handle")
		}
		return nil
	}, quiet)
	resp, err := h(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" {
		t.Errorf("failures %+v, want only sequence number 2", resp.BatchItemFailures)
	}
	if len(seen) != 2 || seen[1] != "poison" {
		t.Errorf("handled %v; the record after the failure must not overtake it", seen)
	}
}

func TestARecordThatIsNotAnEventIsReported(t *testing.T) {
	h := subscriber.Handler(func(context.Context, subscriber.Event) error { return nil }, quiet)
	resp, _ := h(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", `{"id":"a"}`), record("2", "not json")}})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "2" {
		t.Errorf("failures %+v", resp.BatchItemFailures)
	}
}

func TestAllGoodReportsNothing(t *testing.T) {
	var keys []string
	h := subscriber.Handler(func(_ context.Context, ev subscriber.Event) error { keys = append(keys, ev.PartitionKey); return nil }, quiet)
	resp, _ := h(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", `{"id":"a"}`), record("2", `{"id":"b","partitionKey":"own"}`)}})
	if resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures %+v, want an empty list", resp.BatchItemFailures)
	}
	if len(keys) != 2 || keys[0] != "k" || keys[1] != "own" {
		t.Errorf("partition keys %v: the record's key stands in for a missing one", keys)
	}
}

func TestStopsBeforeTheDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	h := subscriber.Handler(func(context.Context, subscriber.Event) error { time.Sleep(150 * time.Millisecond); return nil },
		subscriber.Options{Logger: quiet.Logger, Reserve: 100 * time.Millisecond})
	resp, _ := h(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", `{}`), record("2", `{}`), record("3", `{}`), record("4", `{}`)}})
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "3" {
		t.Errorf("failures %+v, want a stop at record 3", resp.BatchItemFailures)
	}
}
