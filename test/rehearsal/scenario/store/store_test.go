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
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/microstore"
	"github.com/eventlake/eventlake/test/rehearsal"
)

// TestStoreAndReplay is scenarios 2 and 4 on one deployment (the events go through the blueprint once; each subtest
// asserts on what they left):
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
	ctx := context.Background()
	admin := r.AdminConfig()

	// WHEN 2,000 events over 50 keys, of order types and others, are put on the event stream with package producer,
	// and every subscription, the micro store's trigger and the lake's delivery stream run until drained
	f := deliver(t, r, bp, makeEvents(t, time.Now().Add(-time.Hour)))
	all := byKey(f.events, nil)
	orders := byKey(f.events, bp.isOrder)
	var orderCount int
	for _, evs := range orders {
		orderCount += len(evs)
	}
	if len(orders) != orderKeys || orderCount == 0 || orderCount == eventCount {
		t.Fatalf("%d order events over %d keys: the traffic does not test the micro store's filter", orderCount, len(orders))
	}

	t.Run("store", func(t *testing.T) {
		// THEN the writer was handed every event once and stored it
		if s := f.writer.Stats(); s.Records != eventCount || s.Succeeded != eventCount || s.FunctionErrors != 0 || s.PartialFailures != 0 || s.FailuresSent != 0 {
			t.Errorf("writer: %+v, want %d records handed over once and stored", s, eventCount)
		}
		// AND the reader returns each entity's events in the order they were put, none missing, none twice, each as
		// the producer wrote it and where the stream put it (the large event read back from the payload bucket)
		reader := &eventstore.Reader{DB: dynamodb.NewFromConfig(admin), Payloads: s3Client(admin), Table: bp.storeTable}
		for key, want := range all {
			var got []eventstore.Event
			if err := reader.Entity(ctx, key, func(e eventstore.Event) error { got = append(got, e); return nil }); err != nil {
				t.Fatal(err)
			}
			if diff := orderDiff(ids(want), storedIDs(got)); diff != "" {
				t.Errorf("event store entity %s: %s", key, diff)
				continue
			}
			for i, e := range got {
				stream := f.record(t, want[i].ID)
				if !bytes.Equal(e.Data, want[i].Data) || e.Type != want[i].Type || e.PartitionKey != key ||
					e.SequenceNumber != stream.Kinesis.SequenceNumber || e.ShardID+":"+e.SequenceNumber != stream.EventID ||
					e.Arrival.UnixMilli() != lake.ArrivalMillis(stream.Kinesis.ApproximateArrivalTimestamp) {
					t.Errorf("event store entity %s, event %s: stored %s %s %s at %s (%d bytes), the stream delivered %s at %s (%d bytes)", key, e.ID,
						e.Type, e.ShardID, e.SequenceNumber, e.Arrival, len(e.Data), stream.EventID, stream.Kinesis.ApproximateArrivalTimestamp.UTC(), len(stream.Kinesis.Data))
				}
			}
		}
		if n := countItems(t, admin, bp.storeTable); n != eventCount {
			t.Errorf("the event store holds %d items, want %d", n, eventCount)
		}
		refs := listKeys(t, admin, bp.writer.Environment["PAYLOAD_BUCKET"], "payloads/")
		if len(refs) != 1 {
			t.Errorf("the payload bucket holds %v, want the one event over the item limit", refs)
		}

		// AND the listener's subscription filter handed it only the order events, which it stored, each once
		if s := f.listener.Stats(); s.Records != orderCount || s.Filtered != eventCount-orderCount || s.Succeeded != orderCount || s.FunctionErrors != 0 || s.PartialFailures != 0 {
			t.Errorf("listener: %+v, want the %d order events handed over once and the %d others filtered out", s, orderCount, eventCount-orderCount)
		}
		micro := &microstore.Trigger{DB: dynamodb.NewFromConfig(admin), Table: bp.microTable}
		for key := range all {
			history, err := micro.History(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(history))
			for i, it := range history {
				got[i] = it.ID
			}
			if diff := orderDiff(ids(orders[key]), got); diff != "" {
				t.Errorf("micro store key %s: %s", key, diff)
			}
		}

		// AND the trigger had each INSERT once, and saw, for every key with new order events and no other, the key's
		// whole history, latest last
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
	})

	t.Run("replay", func(t *testing.T) {
		// GIVEN the stream's own delivery to the example subscriber, the reference for the replays' shape
		if len(f.delivered) != eventCount {
			t.Fatalf("the example subscriber's subscription delivered %d events, want %d", len(f.delivered), eventCount)
		}
		if s := f.projections.Stats(); s.Records != eventCount || s.Succeeded != eventCount {
			t.Fatalf("the example subscriber's subscription: %+v", s)
		}
		bin := cli.wait(t)
		// The replay CLI reads the event store by hour and write shard, with the default number of write shards: the
		// writer must use that number, or a replay from the store misses events.
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

		for _, src := range []struct {
			name    string
			args    []string
			objects int64
		}{
			{"from the lake", []string{"--bucket", bp.lakeBucket, "--prefix", bp.lakePrefix}, lakeObjects},
			{"from the event store", []string{"--table", bp.storeTable, "--from", from.Format(time.RFC3339), "--to", to.Format(time.RFC3339)}, hours * eventstore.DefaultShards},
		} {
			t.Run(src.name, func(t *testing.T) {
				// WHEN an operator replays into the example subscriber, synchronously (each key's events reach it in
				// order), with the event stream as the records' source
				logStart := len(bp.projections.Logs())
				invoked := bp.projections.Stats().Invocations
				args := slices.Concat(src.args, []string{"--function", bp.projections.Name(), "--sync", "--source-arn", bp.streamARN})
				run := runReplay(t, r, bin, args...)

				// THEN it exits 0 and its summary counts every event read and delivered, nothing else
				s := run.summary
				if run.status != 0 || !s.Done || s.DryRun || s.Objects != src.objects || s.Read != eventCount || s.Delivered != eventCount ||
					s.Filtered != 0 || s.Failed != 0 || s.Oversized != 0 || s.Malformed != 0 || s.Invocations != s.Batches || len(s.Problems) != 0 {
					t.Errorf("status %d, summary %+v: want status 0 and %d objects, %d events read and delivered, nothing else", run.status, s, src.objects, eventCount)
				}
				// AND it checked the subscriber (a DryRun), then invoked it RequestResponse once per batch
				sent := map[string]json.RawMessage{}
				for i, inv := range run.invocations {
					wantType := "RequestResponse"
					if i == 0 {
						wantType = "DryRun"
					}
					if inv.typ != wantType || inv.function != bp.projections.Name() {
						t.Errorf("invocation %d: %s of %s, want %s of %s", i, inv.typ, inv.function, wantType, bp.projections.Name())
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
						if _, twice := sent[id]; twice {
							t.Errorf("event %s sent twice", id)
						}
						sent[id] = raw
					}
				}
				if n := int64(len(run.invocations) - 1); n != s.Invocations || int64(bp.projections.Stats().Invocations-invoked) != n {
					t.Errorf("%d invocations through the Lambda API, %d in the summary, %d run by the subscriber", n, s.Invocations, bp.projections.Stats().Invocations-invoked)
				}
				// AND each record is the one the stream's subscription delivered, field for field, but for the
				// known differences
				known := map[string]int{}
				for _, ev := range f.events {
					raw, ok := sent[ev.ID]
					if !ok {
						t.Errorf("event %s was not sent", ev.ID)
						continue
					}
					for _, d := range shapeDiff(t, f.delivered[ev.ID], raw) {
						if _, ok := knownDifferences[d.field]; ok {
							known[d.field]++
						} else {
							t.Errorf("event %s: %s", ev.ID, d)
						}
					}
				}
				for field, n := range known {
					t.Logf("known difference from the stream's delivery in %d records: %s: %s", n, field, knownDifferences[field])
				}
				// AND the subscriber logged every event once, each key's in the order they were put, with the stream's
				// sequence numbers, and no record it could not take
				type logged struct {
					Level          string `json:"level"`
					ID             string `json:"id"`
					Type           string `json:"type"`
					PartitionKey   string `json:"partitionKey"`
					SequenceNumber string `json:"sequenceNumber"`
				}
				log := bp.projections.Logs()[logStart:]
				got := map[string][]string{}
				for _, l := range logLines[logged](t, log, "event") {
					got[l.PartitionKey] = append(got[l.PartitionKey], l.ID)
					if rec := f.record(t, l.ID); l.SequenceNumber != rec.Kinesis.SequenceNumber || l.PartitionKey != rec.Kinesis.PartitionKey {
						t.Errorf("the subscriber logged event %s as %s %s, the stream delivered it as %s %s", l.ID, l.PartitionKey, l.SequenceNumber, rec.Kinesis.PartitionKey, rec.Kinesis.SequenceNumber)
					}
				}
				for key, want := range all {
					if diff := orderDiff(ids(want), got[key]); diff != "" {
						t.Errorf("the subscriber's key %s: %s", key, diff)
					}
				}
				if warnings := strings.Count(log, `"level":"WARN"`) + strings.Count(log, `"level":"ERROR"`); warnings != 0 {
					t.Errorf("the subscriber logged %d warnings or errors during the replay", warnings)
				}
			})
		}
	})
	t.Logf("scenarios 2 and 4 took %s", time.Since(began).Round(time.Millisecond))
}

// knownDifferences are the fields in which a replayed record differs from the record Lambda's Kinesis event source
// mapping delivers for the same event, and why.
var knownDifferences = map[string]string{
	"invokeIdentityArn":      "Lambda gives the subscription's execution role; the replay invokes as the operator and leaves it empty",
	"kinesis.encryptionType": "Lambda gives the stream's encryption (KMS); the lake does not keep it, so the replay leaves it out",
}

// difference is one field in which two records differ.
type difference struct {
	field          string
	lambda, replay any
}

func (d difference) String() string {
	return fmt.Sprintf("%s: the stream's subscription delivered %v, the replay sent %v", d.field, d.lambda, d.replay)
}

// shapeDiff compares, field by field, a record the stream's subscription delivered with one a replay sent: every
// field of either must be in both with the same value; the arrival time is compared in whole milliseconds, as the
// stream records it (Lambda writes three decimals, aws-lambda-go the float64's digits).
func shapeDiff(t *testing.T, delivered, replayed json.RawMessage) []difference {
	t.Helper()
	lf, rf := flatten(t, delivered), flatten(t, replayed)
	fields := map[string]bool{}
	for k := range lf {
		fields[k] = true
	}
	for k := range rf {
		fields[k] = true
	}
	var out []difference
	for _, k := range sortedKeys(fields) {
		l, lok := lf[k]
		r, rok := rf[k]
		if k == "kinesis.approximateArrivalTimestamp" && lok && rok {
			if arrivalMillis(t, l) == arrivalMillis(t, r) {
				continue
			}
		} else if lok == rok && reflect.DeepEqual(l, r) {
			continue
		}
		if !lok {
			l = "(no field)"
		}
		if !rok {
			r = "(no field)"
		}
		out = append(out, difference{field: k, lambda: l, replay: r})
	}
	return out
}

// flatten decodes a JSON object into its leaves by dotted path.
func flatten(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("record %s: %v", raw, err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(prefix+k+".", x)
			}
			return
		}
		out[strings.TrimSuffix(prefix, ".")] = v
	}
	walk("", v)
	return out
}

func arrivalMillis(t *testing.T, v any) int64 {
	t.Helper()
	var ts events.SecondsEpochTime
	if err := ts.UnmarshalJSON([]byte(fmt.Sprint(v))); err != nil {
		t.Fatalf("approximateArrivalTimestamp %v: %v", v, err)
	}
	return lake.ArrivalMillis(ts)
}

// record is the Kinesis record the stream's subscription delivered for an event.
func (f *flow) record(t *testing.T, id string) events.KinesisEventRecord {
	t.Helper()
	var rec events.KinesisEventRecord
	raw, ok := f.delivered[id]
	if !ok {
		t.Fatalf("the stream's subscription did not deliver event %s", id)
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func ids(evs []event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func storedIDs(evs []eventstore.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// orderDiff says how got differs from want, a key's event ids in order: missing, extra or repeated ids, or the first
// place where the order differs; "" when they are the same.
func orderDiff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var problems []string
	for _, id := range want {
		switch count[id] {
		case 0:
			problems = append(problems, id+" missing")
		case 1:
		default:
			problems = append(problems, fmt.Sprintf("%s %d times", id, count[id]))
		}
		delete(count, id)
	}
	for _, id := range sortedKeys(count) {
		problems = append(problems, id+" unexpected")
	}
	if len(problems) == 0 {
		for i := range want {
			if want[i] != got[i] {
				problems = append(problems, fmt.Sprintf("out of order from position %d: got %s, want %s", i, got[i], want[i]))
				break
			}
		}
	}
	return fmt.Sprintf("%d events, want %d: %s", len(got), len(want), strings.Join(problems, "; "))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// countItems counts a table's items with a paginated Scan of Select COUNT.
func countItems(t *testing.T, cfg aws.Config, table string) int {
	t.Helper()
	var n int
	pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: &table, Select: dtypes.SelectCount})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}

// s3Client is an S3 client of cfg with path-style addressing, as the rehearsal's endpoint needs.
func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// listKeys lists a bucket's keys under a prefix.
func listKeys(t *testing.T, cfg aws.Config, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s3Client(cfg), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
