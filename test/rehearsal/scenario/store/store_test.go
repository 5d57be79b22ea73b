// Package store holds scenarios 2 (Store) and 4 (Replay) of the deploy rehearsal (issue 10), run on the synthesized
// blueprint under IAM (package rehearsal): 2,000 events put on the event stream with package producer reach the event
// store, the orders micro store and its trigger, the example subscriber and the lake, each function on its own
// bootstrap with its own role's credentials, driven from its template's subscription settings (package sources); then
// the operators' cmd/replay replays the lake and the event store into the example subscriber.
package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/test/rehearsal"
)

// TestStoreAndReplay is scenarios 2 and 4 on one deployment: the events go through the blueprint once, and each
// subtest asserts on what they left.
//
//   - store: the writer stores all 2,000 events in the event store, and eventstore.Reader returns each entity's
//     events in the order they were put, none missing, none twice; the micro store listener keeps only its types (its
//     subscription's filter drops the others before invocation); the trigger sees each touched key's whole history.
//   - replay: cmd/replay, from the lake (written by the Firehose driver and the lake's own transformation) and from
//     the event store, delivers every event once, per key in order, to the example subscriber, in the shape the
//     stream's own subscription delivers them.
func TestStoreAndReplay(t *testing.T) {
	// GIVEN the blueprint deployed under IAM, the operators' replay command building meanwhile
	began := time.Now()
	cli := buildReplayCLI(t)
	r := rehearsal.Start(t, rehearsal.AssemblyDir(t), rehearsal.WithoutEcho())
	bp := findBlueprint(t, r)

	// WHEN 2,000 events over 50 keys, of order types and others, are put on the event stream with package producer,
	// and every subscription, the micro store's trigger and the lake's delivery stream run until drained
	f := deliver(t, r, bp, makeEvents(t, time.Now().Add(-time.Hour)))

	t.Run("store", func(t *testing.T) { checkStore(t, r, f) })

	t.Run("replay", func(t *testing.T) {
		// GIVEN the stream's own delivery to the example subscriber, the reference for the replays' shape
		if s := f.projections.Stats(); len(f.delivered) != eventCount || s.Records != eventCount || s.Succeeded != eventCount {
			t.Fatalf("the example subscriber's subscription delivered %d events (%+v), want %d", len(f.delivered), s, eventCount)
		}
		// The replay command reads the event store by hour and write shard, with the default number of write shards:
		// the writer must use that number, or a replay from the store misses events.
		if shards := bp.writer.Environment["SHARDS"]; shards != strconv.Itoa(eventstore.DefaultShards) {
			t.Fatalf("the writer writes %s shards; cmd/replay reads %d", shards, eventstore.DefaultShards)
		}
		from, to := f.first.Add(-time.Minute).UTC().Truncate(time.Second), f.last.Add(time.Minute).UTC().Truncate(time.Second)
		var hours int64
		for h := from.Truncate(time.Hour); !h.After(to); h = h.Add(time.Hour) {
			hours++
		}
		var lakeObjects int64
		for _, o := range f.fire.Objects() {
			if o.Error {
				t.Errorf("the lake's transformation failed records: %s", o.Key)
				continue
			}
			if !strings.HasPrefix(o.Key, bp.lakePrefix) {
				t.Errorf("lake object %s is not under the replay's LAKE_PREFIX %s", o.Key, bp.lakePrefix)
			}
			lakeObjects++
		}
		bin := cli.wait(t)

		for _, src := range []struct {
			name    string
			args    []string
			objects int64
		}{
			{"from the lake", []string{"--bucket", bp.lakeBucket, "--prefix", bp.lakePrefix}, lakeObjects},
			{"from the event store", []string{"--table", bp.storeTable, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)},
				hours * eventstore.DefaultShards},
		} {
			t.Run(src.name, func(t *testing.T) {
				// WHEN an operator replays into the example subscriber, synchronously (so that each key's events
				// reach it in order), with the event stream as the records' source
				logStart, invoked := len(bp.projections.Logs()), bp.projections.Stats().Invocations
				run := runReplay(t, r, bin, slices.Concat(src.args, []string{"--function", bp.projections.Name(), "--sync", "--source-arn", bp.streamARN})...)

				// THEN it exits 0 and its summary counts every event read and delivered, and nothing else
				s := run.summary
				if run.status != 0 || !s.Done || s.DryRun || s.Objects != src.objects || s.Read != eventCount || s.Delivered != eventCount ||
					s.Filtered != 0 || s.Failed != 0 || s.Oversized != 0 || s.Malformed != 0 || s.Invocations != s.Batches || len(s.Problems) != 0 {
					t.Errorf("status %d, summary %+v: want status 0 and %d objects, %d events read and delivered, nothing else", run.status, s, src.objects, eventCount)
				}
				checkReplay(t, f, run, bp.projections.Logs()[logStart:], bp.projections.Stats().Invocations-invoked)
			})
		}
	})
	t.Logf("scenarios 2 and 4 took %s", time.Since(began).Round(time.Millisecond))
}

// checkStore asserts scenario 2 on what the events left: the event store, the micro store and the trigger's log.
func checkStore(t *testing.T, r *rehearsal.Rehearsal, f *flow) {
	bp, admin := f.bp, r.AdminConfig()
	all, orders := byKey(f.events, nil), byKey(f.events, bp.isOrder)
	var orderCount int
	for _, evs := range orders {
		orderCount += len(evs)
	}
	if len(orders) != orderKeys || orderCount == 0 || orderCount == eventCount {
		t.Fatalf("%d order events over %d keys: the traffic does not test the micro store's filter", orderCount, len(orders))
	}

	// THEN the writer was handed every event once and stored it
	if s := f.writer.Stats(); s.Records != eventCount || s.Succeeded != eventCount || s.FunctionErrors != 0 || s.PartialFailures != 0 || s.FailuresSent != 0 {
		t.Errorf("writer: %+v, want %d records handed over once and stored", s, eventCount)
	}
	// AND the reader returns each entity's events in the order they were put, none missing, none twice, each as the
	// producer wrote it and where the stream put it (the large event read back from the payload bucket)
	reader := &eventstore.Reader{DB: dynamodb.NewFromConfig(admin), Payloads: s3Client(admin), Table: bp.storeTable}
	entities := perKey(t, sortedKeys(all), func(ctx context.Context, key string) ([]eventstore.Event, error) {
		var got []eventstore.Event
		err := reader.Entity(ctx, key, func(e eventstore.Event) error { got = append(got, e); return nil })
		return got, err
	})
	var wrong []string
	for _, key := range sortedKeys(all) {
		want, got := all[key], entities[key]
		if diff := orderDiff(ids(want), storedIDs(got)); diff != "" {
			t.Errorf("event store entity %s: %s", key, diff)
			continue
		}
		for i, e := range got {
			stream := f.record(t, want[i].ID)
			if !bytes.Equal(e.Data, want[i].Data) || e.Type != want[i].Type || e.PartitionKey != key ||
				e.SequenceNumber != stream.Kinesis.SequenceNumber || e.ShardID+":"+e.SequenceNumber != stream.EventID ||
				e.Arrival.UnixMilli() != lake.ArrivalMillis(stream.Kinesis.ApproximateArrivalTimestamp) {
				wrong = append(wrong, fmt.Sprintf("%s stored as %s %s:%s at %s (%d bytes), put as %s, delivered by the stream as %s at %s (%d bytes)", e.ID,
					e.Type, e.ShardID, e.SequenceNumber, e.Arrival.Format(time.RFC3339Nano), len(e.Data), want[i].Type, stream.EventID,
					stream.Kinesis.ApproximateArrivalTimestamp.UTC().Format(time.RFC3339Nano), len(stream.Kinesis.Data)))
			}
		}
	}
	if len(wrong) > 0 {
		t.Errorf("%d events stored otherwise than put and delivered by the stream: %s", len(wrong), clip(wrong))
	}
	if n := countItems(t, admin, bp.storeTable); n != eventCount {
		t.Errorf("the event store holds %d items, want %d", n, eventCount)
	}
	if refs := listKeys(t, admin, bp.writer.Environment["PAYLOAD_BUCKET"], "payloads/"); len(refs) != 1 {
		t.Errorf("the payload bucket holds %v, want the one event over the item limit", refs)
	}

	// AND the listener's subscription filter handed it only the order events, which it stored, each once
	if s := f.listener.Stats(); s.Records != orderCount || s.Filtered != eventCount-orderCount || s.Succeeded != orderCount || s.FunctionErrors != 0 || s.PartialFailures != 0 {
		t.Errorf("listener: %+v, want the %d order events handed over once and the %d others filtered out", s, orderCount, eventCount-orderCount)
	}
	micro := perKey(t, sortedKeys(all), func(ctx context.Context, key string) ([]string, error) {
		return microIDs(ctx, admin, bp.microTable, key)
	})
	for _, key := range sortedKeys(all) {
		if diff := orderDiff(ids(orders[key]), micro[key]); diff != "" {
			t.Errorf("micro store key %s: %s", key, diff)
		}
	}

	// AND the trigger had each INSERT once, and saw, for every key with new order events and no other, the key's
	// whole history, latest last (it ran once the listener was drained: every history is complete)
	if s := f.trigger.Stats(); s.Records != orderCount || s.Succeeded != orderCount || s.FunctionErrors != 0 || s.PartialFailures != 0 {
		t.Errorf("trigger: %+v, want the %d inserts handed over once", s, orderCount)
	}
	type history struct {
		Key        string `json:"key"`
		Events     int    `json:"events"`
		LatestType string `json:"latestType"`
		LatestID   string `json:"latestId"`
	}
	seen := map[string]bool{}
	for _, h := range logLines[history](t, bp.trigger.Logs(), "history") {
		seen[h.Key] = true
		want := orders[h.Key]
		if len(want) == 0 {
			t.Errorf("the trigger saw key %s, which has no order event", h.Key)
			continue
		}
		if last := want[len(want)-1]; h.Events != len(want) || h.LatestID != last.ID || h.LatestType != last.Type {
			t.Errorf("the trigger saw key %s with %d events, the latest %s (%s); its history is %d events, the latest %s (%s)",
				h.Key, h.Events, h.LatestID, h.LatestType, len(want), last.ID, last.Type)
		}
	}
	if len(seen) != len(orders) {
		t.Errorf("the trigger saw %d keys, want the %d keys with order events", len(seen), len(orders))
	}
}

// checkReplay asserts scenario 4 on one run of the replay command: what it sent, and what the subscriber logged
// (log, its log since the run started) in invoked invocations.
func checkReplay(t *testing.T, f *flow, run cliRun, log string, invoked int) {
	fn := f.bp.projections
	// THEN it checked the subscriber (a DryRun), then invoked it RequestResponse once per batch
	sent := map[string]json.RawMessage{}
	var twice []string
	for i, inv := range run.invocations {
		wantType := "RequestResponse"
		if i == 0 {
			wantType = "DryRun"
		}
		if inv.typ != wantType || inv.function != fn.Name() {
			t.Errorf("invocation %d: %s of %s, want %s of %s", i, inv.typ, inv.function, wantType, fn.Name())
		}
		if i == 0 {
			continue
		}
		var in struct{ Records []json.RawMessage }
		if err := json.Unmarshal(inv.payload, &in); err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		for _, raw := range in.Records {
			id, err := recordEventID(raw)
			if err != nil {
				t.Fatalf("invocation %d: %v", i, err)
			}
			if _, ok := sent[id]; ok {
				twice = append(twice, id)
			}
			sent[id] = raw
		}
	}
	if len(twice) > 0 {
		t.Errorf("%d events sent more than once: %s", len(twice), clip(twice))
	}
	if n := len(run.invocations) - 1; int64(n) != run.summary.Invocations || invoked != n {
		t.Errorf("%d invocations through the Lambda API, %d in the summary, %d run by the subscriber", n, run.summary.Invocations, invoked)
	}

	// AND each record is the one the stream's subscription delivered, field for field, but for the known differences
	var unsent []string
	diffs := map[string][]string{} // field → the first difference in it, then the events whose record differs in it
	for _, ev := range f.events {
		raw, ok := sent[ev.ID]
		if !ok {
			unsent = append(unsent, ev.ID)
			continue
		}
		for _, d := range shapeDiff(t, f.delivered[ev.ID], raw) {
			if len(diffs[d.field]) == 0 {
				diffs[d.field] = append(diffs[d.field], fmt.Sprintf("event %s: %s", ev.ID, d))
			}
			diffs[d.field] = append(diffs[d.field], ev.ID)
		}
	}
	if len(unsent) > 0 {
		t.Errorf("%d events not sent: %s", len(unsent), clip(unsent))
	}
	for _, field := range sortedKeys(diffs) {
		n := len(diffs[field]) - 1
		if why, ok := knownDifferences[field]; ok {
			t.Logf("known difference from the stream's delivery in %d records: %s: %s", n, field, why)
			continue
		}
		t.Errorf("%d records differ from the stream's delivery in %s; the first, %s", n, field, diffs[field][0])
	}

	// AND the subscriber logged every event once, each key's in the order they were put, with the stream's key and
	// sequence number, and nothing it could not take
	type logged struct {
		ID             string `json:"id"`
		PartitionKey   string `json:"partitionKey"`
		SequenceNumber string `json:"sequenceNumber"`
	}
	all := byKey(f.events, nil)
	got := map[string][]string{}
	var misplaced []string
	for _, l := range logLines[logged](t, log, "event") {
		got[l.PartitionKey] = append(got[l.PartitionKey], l.ID)
		if rec := f.record(t, l.ID); l.SequenceNumber != rec.Kinesis.SequenceNumber || l.PartitionKey != rec.Kinesis.PartitionKey {
			misplaced = append(misplaced, fmt.Sprintf("%s as %s %s, delivered by the stream as %s %s", l.ID, l.PartitionKey, l.SequenceNumber, rec.Kinesis.PartitionKey, rec.Kinesis.SequenceNumber))
		}
	}
	if len(misplaced) > 0 {
		t.Errorf("the subscriber logged %d events with another key or sequence number than the stream's: %s", len(misplaced), clip(misplaced))
	}
	for _, key := range sortedKeys(all) {
		if diff := orderDiff(ids(all[key]), got[key]); diff != "" {
			t.Errorf("the subscriber's key %s: %s", key, diff)
		}
	}
	if len(got) != len(all) {
		t.Errorf("the subscriber logged events of %d keys, want %d", len(got), len(all))
	}
	if warnings := strings.Count(log, `"level":"WARN"`) + strings.Count(log, `"level":"ERROR"`); warnings != 0 {
		t.Errorf("the subscriber logged %d warnings or errors during the replay", warnings)
	}
}
