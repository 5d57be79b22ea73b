package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/eventlake/eventlake/test/moto"
)

func kinesisEvent(t testing.TB, payload []byte) events.KinesisEvent {
	t.Helper()
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return ev
}

// seqs returns the sequence numbers of a Kinesis payload.
func seqs(t testing.TB, payload []byte) []string {
	var out []string
	for _, r := range kinesisEvent(t, payload).Records {
		out = append(out, r.Kinesis.SequenceNumber)
	}
	return out
}

func failItem(seq string) []byte {
	return []byte(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, seq))
}

func newKinesis(t testing.TB, cfg aws.Config, s StreamSettings, fn Invoker, opts ...Option) *Kinesis {
	t.Helper()
	if s.FunctionName == "" {
		s.FunctionName = "arn:aws:lambda:us-east-1:123456789012:function:subscriber"
	}
	if s.StartingPosition == "" {
		s.StartingPosition = "TRIM_HORIZON"
	}
	s.Enabled = true
	k, err := NewKinesis(context.Background(), cfg, s, fn, append([]Option{WithLogf(t.Logf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func drain(t testing.TB, d interface{ Drain(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestKinesisEventIsWhatLambdaSends(t *testing.T) {
	// GIVEN a stream holding an event and a record that is not JSON, and a mapping with the function's role
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	before := time.Now().Add(-time.Second)
	shard, seq1 := put(t, cfg, stream, "order-1", []byte(`{"id":"e1","type":"order-created"}`), "")
	_, seq2 := put(t, cfg, stream, "order-2", []byte("not json"), "")
	fn := &calls{}
	role := "arn:aws:iam::123456789012:role/subscriber"
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, BatchSize: 10}, fn, WithRoleARN(role))

	// WHEN the stream is drained
	drain(t, k)

	// THEN the function got one event with both records, each exactly as Lambda writes it
	got := fn.all()
	if len(got) != 1 {
		t.Fatalf("%d invocations, want 1", len(got))
	}
	var raw struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(got[0], &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Records) != 2 {
		t.Fatalf("%d records", len(raw.Records))
	}
	wantKeys := []string{"awsRegion", "eventID", "eventName", "eventSource", "eventSourceARN", "eventVersion", "invokeIdentityArn", "kinesis"}
	for i, r := range raw.Records {
		var keys []string
		for k := range r {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Errorf("record %d keys %v, want %v", i, keys, wantKeys)
		}
		var kin map[string]json.RawMessage
		json.Unmarshal(r["kinesis"], &kin)
		var kkeys []string
		for k := range kin {
			kkeys = append(kkeys, k)
		}
		sort.Strings(kkeys)
		if want := []string{"approximateArrivalTimestamp", "data", "kinesisSchemaVersion", "partitionKey", "sequenceNumber"}; !reflect.DeepEqual(kkeys, want) {
			t.Errorf("record %d kinesis keys %v, want %v", i, kkeys, want)
		}
		// Float seconds with at most millisecond precision, as Kinesis keeps it.
		ts := string(kin["approximateArrivalTimestamp"])
		if !regexp.MustCompile(`^\d{10}\.\d{3}$`).MatchString(ts) {
			t.Errorf("approximateArrivalTimestamp %s: want float seconds with millisecond precision", ts)
		}
	}
	// In the order of AWS's example event.
	order := `^\{"Records":\[\{"kinesis":\{"kinesisSchemaVersion":"1\.0","partitionKey":"order-1","sequenceNumber":"\d+","data":"[^"]+",` +
		`"approximateArrivalTimestamp":\d+\.\d{3}\},"eventSource":"aws:kinesis","eventVersion":"1\.0","eventID":"shardId-\d+:\d+",` +
		`"eventName":"aws:kinesis:record","invokeIdentityArn":"[^"]+","awsRegion":"us-east-1","eventSourceARN":"[^"]+"\},`
	if !regexp.MustCompile(order).Match(got[0]) {
		t.Errorf("event %s\ndoes not match %s", got[0], order)
	}
	ev := kinesisEvent(t, got[0])
	want := []struct{ seq, key, data string }{{seq1, "order-1", `{"id":"e1","type":"order-created"}`}, {seq2, "order-2", "not json"}}
	for i, r := range ev.Records {
		w := want[i]
		if r.EventSource != "aws:kinesis" || r.EventName != "aws:kinesis:record" || r.EventVersion != "1.0" ||
			r.EventSourceArn != stream || r.AwsRegion != "us-east-1" || r.InvokeIdentityArn != role ||
			r.EventID != shard+":"+w.seq || r.Kinesis.KinesisSchemaVersion != "1.0" || r.Kinesis.PartitionKey != w.key ||
			r.Kinesis.SequenceNumber != w.seq || string(r.Kinesis.Data) != w.data {
			t.Errorf("record %d: %+v", i, r)
		}
		if at := r.Kinesis.ApproximateArrivalTimestamp.Time; at.Before(before) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("record %d arrived at %s", i, at)
		}
	}
	if s := k.Stats(); s.Invocations != 1 || s.Records != 2 || s.Succeeded != 2 {
		t.Errorf("stats %+v", s)
	}
}

func TestKinesisBatchesKeepEachShardInOrder(t *testing.T) {
	// GIVEN three shards with 25 records each, over several partition keys
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 3)
	hash := shardHashKeys(t, cfg, stream)
	put1 := func(shard string, i int) string {
		_, seq := put(t, cfg, stream, fmt.Sprintf("key-%d", i%4), []byte(fmt.Sprintf(`{"id":"%s-%d"}`, shard, i)), hash[shard])
		return seq
	}
	written := map[string][]string{}
	for i := 0; i < 25; i++ {
		for shard := range hash {
			written[shard] = append(written[shard], put1(shard, i))
		}
	}
	fn := &calls{}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, BatchSize: 10}, fn)

	// WHEN the stream is drained
	drain(t, k)

	// THEN each shard went in batches of 10, 10 and 5, each batch from one shard, in sequence order
	delivered := map[string][]string{}
	sizes := map[string][]int{}
	for _, p := range fn.all() {
		ev := kinesisEvent(t, p)
		shard := strings.SplitN(ev.Records[0].EventID, ":", 2)[0]
		for _, r := range ev.Records {
			if !strings.HasPrefix(r.EventID, shard+":") {
				t.Errorf("batch mixes shards: %s and %s", shard, r.EventID)
			}
			delivered[shard] = append(delivered[shard], r.Kinesis.SequenceNumber)
		}
		sizes[shard] = append(sizes[shard], len(ev.Records))
	}
	for shard, w := range written {
		if !reflect.DeepEqual(delivered[shard], w) {
			t.Errorf("shard %s delivered %v, want %v", shard, delivered[shard], w)
		}
		if !reflect.DeepEqual(sizes[shard], []int{10, 10, 5}) {
			t.Errorf("shard %s batch sizes %v, want [10 10 5]", shard, sizes[shard])
		}
	}

	// AND a second drain finds nothing new; one new record makes one more invocation
	drain(t, k)
	if n := len(fn.all()); n != 9 {
		t.Fatalf("%d invocations after a second drain, want 9", n)
	}
	var shard string
	for shard = range hash {
		break
	}
	seq := put1(shard, 99)
	drain(t, k)
	all := fn.all()
	if len(all) != 10 || !reflect.DeepEqual(seqs(t, all[9]), []string{seq}) {
		t.Fatalf("%d invocations, last %v: want one more with %s", len(all), seqs(t, all[len(all)-1]), seq)
	}
}

func TestKinesisPartialFailureRetriesFromTheLowestFailedRecord(t *testing.T) {
	// GIVEN six records and a function that reports records 4 and 3 failed the first time it sees them
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	var written []string
	for i := 0; i < 6; i++ {
		_, seq := put(t, cfg, stream, "k", []byte(fmt.Sprintf(`{"n":%d}`, i)), "")
		written = append(written, seq)
	}
	fn := &calls{handle: func(n int, _ []byte) ([]byte, error) {
		if n == 1 {
			return []byte(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":%q}]}`, written[3], written[2])), nil
		}
		return []byte(`{"batchItemFailures":[]}`), nil
	}}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, BatchSize: 10, ReportBatchItemFailures: true, MaximumRetryAttempts: 3}, fn)

	// WHEN the stream is drained
	drain(t, k)

	// THEN the second invocation starts at the lowest failed record, the third; nothing else is retried
	got := fn.all()
	if len(got) != 2 || !reflect.DeepEqual(seqs(t, got[0]), written) || !reflect.DeepEqual(seqs(t, got[1]), written[2:]) {
		var all [][]string
		for _, p := range got {
			all = append(all, seqs(t, p))
		}
		t.Fatalf("invocations %v, want %v then %v", all, written, written[2:])
	}
	if s := k.Stats(); s.Retries != 1 || s.PartialFailures != 1 || s.Succeeded != 6 || s.FailuresSent != 0 {
		t.Errorf("stats %+v", s)
	}
	if cp := k.Checkpoints()["shardId-000000000000"]; cp != written[5] {
		t.Errorf("checkpoint %s, want %s", cp, written[5])
	}
}

func TestKinesisBadItemIdentifierFailsTheWholeBatch(t *testing.T) {
	for _, resp := range []string{`{"batchItemFailures":[{"itemIdentifier":""}]}`, `{"batchItemFailures":[{"itemIdentifier":null}]}`,
		`{"batchItemFailures":[{"sequenceNumber":"1"}]}`, `{"batchItemFailures":[{"itemIdentifier":"999999"}]}`} {
		t.Run(resp, func(t *testing.T) {
			// GIVEN a function that answers with an unusable batch item failure, and no retries
			cfg := moto.Config(t)
			stream := newStream(t, cfg, 1)
			put(t, cfg, stream, "k", []byte(`{}`), "")
			put(t, cfg, stream, "k", []byte(`{}`), "")
			fn := &calls{handle: func(int, []byte) ([]byte, error) { return []byte(resp), nil }}
			k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, ReportBatchItemFailures: true, MaximumRetryAttempts: 0}, fn)

			// WHEN the stream is drained
			drain(t, k)

			// THEN the whole batch is given up after its one invocation
			if s := k.Stats(); s.Invocations != 1 || s.FailuresSent != 1 || s.FailedRecords != 2 || s.Succeeded != 0 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

func TestKinesisBisectIsolatesAPoisonRecord(t *testing.T) {
	// GIVEN eight records, the sixth a poison that fails any batch holding it, bisect on, two retries, and an SQS
	// on-failure destination
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	var written []string
	for i := 0; i < 8; i++ {
		data := fmt.Sprintf(`{"n":%d}`, i)
		if i == 5 {
			data = "poison"
		}
		_, seq := put(t, cfg, stream, "k", []byte(data), "")
		written = append(written, seq)
	}
	dlqURL, dlqARN := newQueue(t, cfg, nil)
	succeeded := map[string]int{}
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) {
		ev := kinesisEvent(t, p)
		for _, r := range ev.Records {
			if string(r.Kinesis.Data) == "poison" {
				return nil, fmt.Errorf("cannot handle %s", r.Kinesis.SequenceNumber)
			}
		}
		for _, r := range ev.Records {
			succeeded[r.Kinesis.SequenceNumber]++
		}
		return nil, nil
	}}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, BatchSize: 8, BisectBatchOnFunctionError: true,
		MaximumRetryAttempts: 2, OnFailureDestination: dlqARN}, fn)

	// WHEN the stream is drained
	drain(t, k)

	// THEN the batch was split down to the poison, which alone was retried twice and sent on; every other record
	// succeeded exactly once
	var batches [][]string
	for _, p := range fn.all() {
		batches = append(batches, seqs(t, p))
	}
	w := written
	want := [][]string{w, w[:4], w[4:], w[4:6], w[4:5], w[5:6], w[5:6], w[5:6], w[6:]}
	if !reflect.DeepEqual(batches, want) {
		t.Errorf("batches %v\nwant    %v", batches, want)
	}
	for i, seq := range written {
		if n := succeeded[seq]; (i == 5 && n != 0) || (i != 5 && n != 1) {
			t.Errorf("record %d succeeded %d times", i, n)
		}
	}
	if s := k.Stats(); s.Bisections != 3 || s.Retries != 2 || s.FailuresSent != 1 || s.FailedRecords != 1 || s.FunctionErrors != 6 {
		t.Errorf("stats %+v", s)
	}
	bodies := receiveAll(t, cfg, dlqURL)
	if len(bodies) != 1 {
		t.Fatalf("%d messages on the destination, want 1", len(bodies))
	}
	var rec invocationRecord
	if err := json.Unmarshal([]byte(bodies[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if b := rec.KinesisBatchInfo; b == nil || b.StartSequenceNumber != written[5] || b.EndSequenceNumber != written[5] || b.BatchSize != 1 {
		t.Errorf("batch info %+v, want the poison alone", rec.KinesisBatchInfo)
	}
	if rec.RequestContext.Condition != ConditionRetryAttemptsExhausted || rec.RequestContext.ApproximateInvokeCount != 6 {
		t.Errorf("request context %+v", rec.RequestContext)
	}
}

func TestKinesisRetriesThenOnFailureDestination(t *testing.T) {
	for _, dest := range []string{"sqs", "sns", "s3"} {
		t.Run(dest, func(t *testing.T) {
			// GIVEN three records, a function that always fails, two retries and no bisect
			cfg := moto.Config(t)
			stream := newStream(t, cfg, 1)
			var written []string
			for i := 0; i < 3; i++ {
				_, seq := put(t, cfg, stream, "k", []byte(fmt.Sprintf(`{"n":%d}`, i)), "")
				written = append(written, seq)
			}
			var destARN, queueURL, bucket string
			switch dest {
			case "sqs":
				queueURL, destARN = newQueue(t, cfg, nil)
			case "sns":
				// A topic with a queue subscribed, raw, to read what was published.
				var queueARN string
				queueURL, queueARN = newQueue(t, cfg, nil)
				destARN = newTopic(t, cfg, queueARN)
			default:
				bucket = newBucket(t, cfg)
				destARN = "arn:aws:s3:::" + bucket
			}
			fn := &calls{handle: func(int, []byte) ([]byte, error) { return nil, fmt.Errorf("boom") }}
			fnARN := "arn:aws:lambda:us-east-1:123456789012:function:subscriber"
			k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, FunctionName: fnARN, MaximumRetryAttempts: 2,
				OnFailureDestination: destARN}, fn, WithMappingUUID("0f4bc3c6-0000-4000-8000-000000000001"))

			// WHEN the stream is drained, twice
			drain(t, k)
			drain(t, k)

			// THEN the batch was invoked three times (once and two retries), then its invocation record sent on once
			if s := k.Stats(); s.Invocations != 3 || s.Retries != 2 || s.FailuresSent != 1 || s.FailedRecords != 3 {
				t.Errorf("stats %+v", s)
			}
			var doc []byte
			if dest != "s3" {
				bodies := receiveAll(t, cfg, queueURL)
				if len(bodies) != 1 {
					t.Fatalf("%d messages, want 1", len(bodies))
				}
				doc = []byte(bodies[0])
			} else {
				keys := listKeys(t, cfg, bucket, "")
				if len(keys) != 1 {
					t.Fatalf("objects %v, want 1", keys)
				}
				re := `^aws/lambda/0f4bc3c6-0000-4000-8000-000000000001/shardId-000000000000/\d{4}/\d{2}/\d{2}/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$`
				if !regexp.MustCompile(re).MatchString(keys[0]) {
					t.Errorf("key %s does not match %s", keys[0], re)
				}
				doc = getObject(t, cfg, bucket, keys[0])
			}
			var rec map[string]any
			if err := json.Unmarshal(doc, &rec); err != nil {
				t.Fatal(err)
			}
			rc := rec["requestContext"].(map[string]any)
			if rc["condition"] != "RetryAttemptsExhausted" || rc["functionArn"] != fnARN || rc["approximateInvokeCount"] != 3.0 || rc["requestId"] == "" {
				t.Errorf("requestContext %v", rc)
			}
			if resp := rec["responseContext"].(map[string]any); resp["functionError"] != "Unhandled" || resp["statusCode"] != 200.0 || resp["executedVersion"] != "$LATEST" {
				t.Errorf("responseContext %v", resp)
			}
			if rec["version"] != "1.0" || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`).MatchString(rec["timestamp"].(string)) {
				t.Errorf("version %v timestamp %v", rec["version"], rec["timestamp"])
			}
			bi := rec["KinesisBatchInfo"].(map[string]any)
			if bi["shardId"] != "shardId-000000000000" || bi["startSequenceNumber"] != written[0] || bi["endSequenceNumber"] != written[2] ||
				bi["batchSize"] != 3.0 || bi["streamArn"] != stream {
				t.Errorf("KinesisBatchInfo %v", bi)
			}
			for _, f := range []string{"approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"} {
				if _, err := time.Parse(time.RFC3339, bi[f].(string)); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			payload, hasPayload := rec["payload"]
			if dest != "s3" && hasPayload {
				t.Errorf("an %s invocation record carries no payload", dest)
			}
			if dest == "s3" {
				b, _ := json.Marshal(payload)
				if got := seqs(t, b); !reflect.DeepEqual(got, written) {
					t.Errorf("payload records %v, want %v", got, written)
				}
			}
		})
	}
}

func TestKinesisFiltersOnData(t *testing.T) {
	// GIVEN records of several types, one not JSON, and the filters a subscription and a micro store emit
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	for _, d := range []string{`{"type":"order-created"}`, `{"type":"payment-made"}`, `not json`, `{"type":"order-shipped","n":1}`,
		`{"id":"no type"}`, `{"type":"refund"}`, `{"type":["x","order-listed"]}`, `{"type":"ORDER-created"}`} {
		put(t, cfg, stream, "k", []byte(d), "")
	}
	fn := &calls{}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, FilterPatterns: []string{
		`{"data":{"type":[{"prefix":"order-"}]}}`,
		`{"data":{"type":["refund"]}}`,
	}}, fn)

	// WHEN the stream is drained, twice
	drain(t, k)
	drain(t, k)

	// THEN only the matching records reached the function, in one batch; the rest are checkpointed past
	var types []string
	for _, p := range fn.all() {
		for _, r := range kinesisEvent(t, p).Records {
			var d struct {
				Type any `json:"type"`
			}
			json.Unmarshal(r.Kinesis.Data, &d)
			types = append(types, fmt.Sprint(d.Type))
		}
	}
	if want := []string{"order-created", "order-shipped", "refund", "[x order-listed]"}; !reflect.DeepEqual(types, want) {
		t.Errorf("delivered %v, want %v", types, want)
	}
	if s := k.Stats(); s.Invocations != 1 || s.Filtered != 4 {
		t.Errorf("stats %+v", s)
	}
	if _, err := NewKinesis(context.Background(), cfg, StreamSettings{EventSourceARN: stream, FunctionName: "f", Enabled: true,
		FilterPatterns: []string{`{"partitionKey":["k"]}`}}, fn); err == nil {
		t.Error("a filter on a key other than data was accepted")
	}
}

func TestKinesisLatestStartsWhenTheMappingIsMade(t *testing.T) {
	// GIVEN two records written before the mapping, two after
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 2)
	put(t, cfg, stream, "a", []byte(`{"before":1}`), "")
	put(t, cfg, stream, "b", []byte(`{"before":2}`), "")
	fn := &calls{}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, StartingPosition: "LATEST"}, fn)
	_, s1 := put(t, cfg, stream, "a", []byte(`{"after":1}`), "")
	_, s2 := put(t, cfg, stream, "b", []byte(`{"after":2}`), "")

	// WHEN the stream is drained
	drain(t, k)

	// THEN only the records written after reached the function
	var got []string
	for _, p := range fn.all() {
		got = append(got, seqs(t, p)...)
	}
	sort.Strings(got)
	want := []string{s1, s2}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestKinesisRecordsOlderThanTheMaximumAgeAreGivenUp(t *testing.T) {
	// GIVEN two records and a clock two minutes ahead of a 60 s maximum record age
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 1)
	put(t, cfg, stream, "k", []byte(`{}`), "")
	put(t, cfg, stream, "k", []byte(`{}`), "")
	queueURL, queueARN := newQueue(t, cfg, nil)
	fn := &calls{}
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, MaximumRecordAgeInSeconds: 60, OnFailureDestination: queueARN}, fn,
		WithClock(func() time.Time { return time.Now().Add(2 * time.Minute) }))

	// WHEN the stream is drained
	drain(t, k)

	// THEN the function was not invoked and the records went to the destination as too old
	if len(fn.all()) != 0 {
		t.Errorf("%d invocations", len(fn.all()))
	}
	bodies := receiveAll(t, cfg, queueURL)
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"condition":"RecordAgeExceeded"`) || !strings.Contains(bodies[0], `"approximateInvokeCount":0`) ||
		strings.Contains(bodies[0], "responseContext") {
		t.Errorf("destination got %v", bodies)
	}
	if s := k.Stats(); s.Expired != 2 || s.FailuresSent != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestKinesisKeepsOrderPerKeyThroughFailures(t *testing.T) {
	// GIVEN two shards, five keys, 60 events, and a function that handles records in order, fails a record at
	// random and reports it, as package subscriber does
	cfg := moto.Config(t)
	stream := newStream(t, cfg, 2)
	written := map[string][]int{}
	for i := 0; i < 60; i++ {
		key := fmt.Sprintf("key-%d", i%5)
		put(t, cfg, stream, key, []byte(fmt.Sprintf(`{"key":%q,"n":%d}`, key, i)), "")
		written[key] = append(written[key], i)
	}
	rng := rand.New(rand.NewSource(7))
	handled := map[string][]int{}
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) {
		for _, r := range kinesisEvent(t, p).Records {
			if rng.Intn(6) == 0 {
				return failItem(r.Kinesis.SequenceNumber), nil
			}
			var d struct {
				Key string `json:"key"`
				N   int    `json:"n"`
			}
			json.Unmarshal(r.Kinesis.Data, &d)
			handled[d.Key] = append(handled[d.Key], d.N)
		}
		return []byte(`{"batchItemFailures":[]}`), nil
	}}
	// One shard at a time in this fake (it is not safe for concurrent use); the driver runs shards concurrently.
	var mu = make(chan struct{}, 1)
	serial := InvokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
		mu <- struct{}{}
		defer func() { <-mu }()
		return fn.Invoke(ctx, p)
	})
	k := newKinesis(t, cfg, StreamSettings{EventSourceARN: stream, BatchSize: 7, ReportBatchItemFailures: true,
		BisectBatchOnFunctionError: true, MaximumRetryAttempts: -1}, serial)

	// WHEN the stream is drained
	drain(t, k)

	// THEN every key's events were handled exactly once each, in the order written
	for key, w := range written {
		if !reflect.DeepEqual(handled[key], w) {
			t.Errorf("%s handled %v, want %v", key, handled[key], w)
		}
	}
	if s := k.Stats(); s.PartialFailures == 0 || s.Succeeded != 60 {
		t.Errorf("stats %+v: want partial failures and 60 successes", s)
	}
}

func TestKinesisSettingsFrom(t *testing.T) {
	stream := "arn:aws:kinesis:us-east-1:123456789012:stream/events"
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:f"
	// A Custom::EventlakeSubscription, as the blueprint's template has it resolved.
	sub := map[string]any{
		"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "ServiceTimeout": "660",
		"BatchSize": "100", "BisectBatchOnFunctionError": "true", "Enabled": "true",
		"EventSourceArn": stream + "/consumer/c:1700000000", "FunctionName": fnARN,
		"FilterPatterns":                 []any{`{"data":{"type":[{"prefix":"order-"}]}}`},
		"MaximumBatchingWindowInSeconds": "1", "MaximumRecordAgeInSeconds": "86400", "MaximumRetryAttempts": "10",
		"Metrics": []any{"EventCount"}, "OnFailureDestination": "arn:aws:s3:::failed", "ParallelizationFactor": "1",
		"ReportBatchItemFailures": "true", "StartingPosition": "TRIM_HORIZON",
	}
	got, err := KinesisSettingsFrom(sub)
	if err != nil {
		t.Fatal(err)
	}
	want := StreamSettings{EventSourceARN: stream + "/consumer/c:1700000000", FunctionName: fnARN, BatchSize: 100,
		MaximumBatchingWindow: time.Second, StartingPosition: "TRIM_HORIZON", ParallelizationFactor: 1,
		BisectBatchOnFunctionError: true, ReportBatchItemFailures: true, MaximumRetryAttempts: 10,
		MaximumRecordAgeInSeconds: 86400, OnFailureDestination: "arn:aws:s3:::failed",
		FilterPatterns: []string{`{"data":{"type":[{"prefix":"order-"}]}}`}, Enabled: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("subscription settings\n%+v\nwant\n%+v", got, want)
	}
	if a, _ := kinesisStreamARN(got.EventSourceARN); a != stream {
		t.Errorf("stream of the consumer %s", a)
	}

	// An AWS::Lambda::EventSourceMapping with numbers as cfn resolves them.
	esm := map[string]any{
		"EventSourceArn": stream, "FunctionName": fnARN, "BatchSize": json.Number("10"), "StartingPosition": "LATEST",
		"BisectBatchOnFunctionError": true, "MaximumRetryAttempts": json.Number("2"),
		"DestinationConfig":     map[string]any{"OnFailure": map[string]any{"Destination": "arn:aws:sqs:us-east-1:123456789012:dlq"}},
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"FilterCriteria":        map[string]any{"Filters": []any{map[string]any{"Pattern": `{"data":{"type":["a"]}}`}}},
	}
	got, err = KinesisSettingsFrom(esm)
	if err != nil {
		t.Fatal(err)
	}
	want = StreamSettings{EventSourceARN: stream, FunctionName: fnARN, BatchSize: 10, StartingPosition: "LATEST",
		ParallelizationFactor: 1, BisectBatchOnFunctionError: true, ReportBatchItemFailures: true, MaximumRetryAttempts: 2,
		MaximumRecordAgeInSeconds: -1, OnFailureDestination: "arn:aws:sqs:us-east-1:123456789012:dlq",
		FilterPatterns: []string{`{"data":{"type":["a"]}}`}, Enabled: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mapping settings\n%+v\nwant\n%+v", got, want)
	}

	for name, bad := range map[string]map[string]any{
		"no starting position": {"EventSourceArn": stream, "FunctionName": fnARN},
		"a queue":              {"EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q", "FunctionName": fnARN, "StartingPosition": "LATEST"},
		"a bad batch size":     {"EventSourceArn": stream, "FunctionName": fnARN, "StartingPosition": "LATEST", "BatchSize": "0"},
		"a bad subscription":   {"ServiceToken": "x", "EventSourceArn": stream, "FunctionName": fnARN, "BatchSize": "lots"},
	} {
		if _, err := KinesisSettingsFrom(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
