package store

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"golang.org/x/sync/errgroup"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/producer"
	"github.com/eventlake/eventlake/test/rehearsal"
	"github.com/eventlake/eventlake/test/rehearsal/sources"
)

// The scenarios' traffic: 2,000 events over 50 keys. The first orderKeys keys get order events (order-*, which the
// orders micro store keeps) among others; the other keys get none, so the trigger must never see them.
const (
	eventCount = 2000
	keyCount   = 50
	orderKeys  = 30
)

// bigEventBytes is the size of the one event too large for an event store item (the writer's inline limit is
// 350 KB): the writer stores it in its payload bucket and the reader reads it back from there.
const bigEventBytes = 360 << 10

// event is one event put on the stream.
type event struct {
	ID, Type, Key string
	// Data is the event as the producer wrote it (compact JSON).
	Data []byte
}

// makeEvents makes the scenarios' events: ids ev-0000…, keys k-00…k-49 in a fixed pseudo-random spread, timestamps
// one second apart in put order (the micro store orders a key's history by timestamp), one event of bigEventBytes.
func makeEvents(t *testing.T, start time.Time) []event {
	t.Helper()
	rng := rand.New(rand.NewPCG(10, 2))
	orderMix := []string{"order-created", "payment-made", "order-paid", "stock-reserved", "order-shipped", "customer-noted"}
	otherMix := []string{"payment-made", "stock-reserved", "customer-noted"}
	evs := make([]event, eventCount)
	for i := range evs {
		k := rng.IntN(keyCount)
		mix := orderMix
		if k >= orderKeys {
			mix = otherMix
		}
		ev := map[string]any{
			"id": fmt.Sprintf("ev-%04d", i), "type": mix[rng.IntN(len(mix))], "partitionKey": fmt.Sprintf("k-%02d", k),
			"timestamp": start.Add(time.Duration(i) * time.Second).UnixMilli(),
			"detail":    map[string]any{"n": i, "note": "café ☕ <&>", "amount": rng.IntN(10000)},
		}
		if i == eventCount/2 {
			ev["type"], ev["attachment"] = "document-attached", strings.Repeat("x", bigEventBytes)
		}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = event{ID: ev["id"].(string), Type: ev["type"].(string), Key: ev["partitionKey"].(string), Data: data}
	}
	return evs
}

// byKey returns each key's events in put order, keeping those keep accepts (all with nil).
func byKey(evs []event, keep func(event) bool) map[string][]event {
	out := map[string][]event{}
	for _, ev := range evs {
		if keep == nil || keep(ev) {
			out[ev.Key] = append(out[ev.Key], ev)
		}
	}
	return out
}

// flow is the blueprint after the scenarios' events went through it: the drivers that delivered them, and what the
// projections subscriber was handed by its Kinesis subscription, the reference a replay is compared with.
type flow struct {
	bp     *blueprint
	events []event
	// writer, listener and projections drive the subscriptions of the event store writer, the micro store listener
	// and the example subscriber; trigger the micro store table's stream; fire the lake.
	writer, listener, projections *sources.Kinesis
	trigger                       *sources.DynamoDB
	fire                          *sources.Firehose
	// delivered are the records the projections subscription handed the subscriber, by event id, as JSON.
	delivered map[string]json.RawMessage
	// first and last bound the events' arrival on the stream.
	first, last time.Time
}

// deliver puts the events on the event stream with package producer and runs the blueprint until every driver is
// drained: the writer, the listener then the trigger, the example subscriber and the lake, each on its own bootstrap
// and credentials, driven from its template's settings with the admin's (AWS's services') credentials.
func deliver(t *testing.T, r *rehearsal.Rehearsal, bp *blueprint, evs []event) *flow {
	t.Helper()
	ctx := context.Background()
	admin := r.AdminConfig()
	f := &flow{bp: bp, events: evs, delivered: map[string]json.RawMessage{}}
	var err error
	if f.writer, err = sources.NewKinesis(ctx, admin, bp.writerSub, bp.writer, sources.WithRoleARN(bp.writer.RoleARN)); err != nil {
		t.Fatal(err)
	}
	if f.listener, err = sources.NewKinesis(ctx, admin, bp.listenerSub, bp.listener, sources.WithRoleARN(bp.listener.RoleARN)); err != nil {
		t.Fatal(err)
	}
	if f.trigger, err = sources.NewDynamoDB(ctx, admin, bp.triggerMapping, bp.trigger); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tap := sources.InvokerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		var in struct{ Records []json.RawMessage }
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, err
		}
		mu.Lock()
		for _, raw := range in.Records {
			id, err := recordEventID(raw)
			if err != nil {
				mu.Unlock()
				return nil, err // the driver fails the delivery: the test sees it in the subscription's stats
			}
			f.delivered[id] = raw
		}
		mu.Unlock()
		return bp.projections.Invoke(ctx, payload)
	})
	if f.projections, err = sources.NewKinesis(ctx, admin, bp.projectionsSub, tap, sources.WithRoleARN(bp.projections.RoleARN)); err != nil {
		t.Fatal(err)
	}
	// Firehose reads a new delivery stream's source from LATEST: it is made before the events are put.
	if f.fire, err = sources.NewFirehose(ctx, admin, bp.lake, bp.transform); err != nil {
		t.Fatal(err)
	}

	f.first = time.Now()
	recs := make([]producer.Record, len(evs))
	for i, ev := range evs {
		recs[i] = producer.Record{PartitionKey: ev.Key, Data: ev.Data}
	}
	if err := producer.New(kinesis.NewFromConfig(admin), bp.streamARN).PutBatch(ctx, recs); err != nil {
		t.Fatalf("put the events: %v", err)
	}
	f.last = time.Now()
	t.Logf("put %d events over %d keys in %s", len(evs), keyCount, f.last.Sub(f.first).Round(time.Millisecond))

	start := time.Now()
	var g errgroup.Group
	type drainer interface{ Drain(context.Context) error }
	// chain drains one after the other: the trigger reads what the listener stored.
	chain := func(names []string, drains ...drainer) {
		g.Go(func() error {
			for i, d := range drains {
				began := time.Now()
				if err := d.Drain(ctx); err != nil {
					return fmt.Errorf("%s: %w", names[i], err)
				}
				t.Logf("drained %s in %s", names[i], time.Since(began).Round(time.Millisecond))
			}
			return nil
		})
	}
	chain([]string{"the event store writer"}, f.writer)
	chain([]string{"the micro store listener", "its trigger"}, f.listener, f.trigger)
	chain([]string{"the example subscriber"}, f.projections)
	chain([]string{"the lake"}, f.fire)
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("the blueprint took the events in %s: writer %+v; listener %+v; trigger %+v; subscriber %+v; lake %+v",
		time.Since(start).Round(time.Millisecond), f.writer.Stats(), f.listener.Stats(), f.trigger.Stats(), f.projections.Stats(), f.fire.Stats())
	return f
}

// recordEventID is the id of the event a Kinesis event record carries.
func recordEventID(raw json.RawMessage) (string, error) {
	var rec events.KinesisEventRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", fmt.Errorf("a record that is no Kinesis record: %w", err)
	}
	h, err := lake.Line{Event: rec.Kinesis.Data}.Header()
	if err != nil {
		return "", fmt.Errorf("record %s carries no event: %w", rec.EventID, err)
	}
	return h.ID, nil
}

// isOrder reports whether the orders micro store keeps an event: its type matches one of the listener's TYPES.
func (bp *blueprint) isOrder(ev event) bool {
	for _, p := range strings.Split(bp.orderTypes, ",") {
		if ok, _ := path.Match(p, ev.Type); ok {
			return true
		}
	}
	return false
}

// logLines returns the JSON lines of a function's log (the handler's slog lines; Lambda's platform lines too when the
// function logs in JSON) whose msg is msg, decoded into T.
func logLines[T any](t *testing.T, log, msg string) []T {
	t.Helper()
	var out []T
	for _, line := range strings.Split(log, "\n") {
		var head struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &head) != nil || head.Msg != msg {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}
