// Package lake holds scenario 1 of the deploy rehearsal (issue 10), "Producer to lake to pipeline", run on the
// synthesized blueprint under IAM (package rehearsal): events put on the event stream with package producer are
// written to the lake by the Firehose driver and the lake's own transformation, the observer's monitor counts the
// lake's objects, the observer announces each complete hour once on EventBridge and SNS, and the pipeline's starter
// starts one execution of the state machine per hour; redelivered messages change nothing. Each function runs its
// own bootstrap with its own role's credentials, driven from its template's settings (package sources).
package lake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	lakeline "github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/pipeline"
	"github.com/eventlake/eventlake/producer"
	"github.com/eventlake/eventlake/test/rehearsal"
	"github.com/eventlake/eventlake/test/rehearsal/sources"
)

// The scenario's traffic: 2,000 events over 50 keys and 2 hours. Each hour's events arrive in flushes: the events of
// a flush are put together and stand for having arrived at the flush's time of the hour (the Firehose driver's
// arrival clock), and the delivery stream is drained after each, as Firehose writes an object per buffering interval.
const (
	eventCount = 2000
	keyCount   = 50
	hours      = 2
	flushes    = 4 // per hour
)

// flushAt is when, in its hour, flush f of the hour stands for having arrived: 5, 20, 35 and 50 minutes past.
func flushAt(hour time.Time, f int) time.Time {
	return hour.Add(5*time.Minute + time.Duration(f)*time.Hour/flushes)
}

// event is one event put on the stream.
type event struct {
	ID, Key string
	// Hour and Flush say when it stands for having arrived.
	Hour, Flush int
	// Data is the event as the producer wrote it.
	Data []byte
}

// makeEvents makes the scenario's events: ids ev-0000…, keys k-00…k-49 in a fixed pseudo-random spread, the first
// half in the first hour, each hour's in flushes of equal size, timestamps (when each happened) in their flush.
func makeEvents(t *testing.T, first time.Time) []event {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 10))
	types := []string{"reading-taken", "order-created", "payment-made", "stock-reserved"}
	perHour, perFlush := eventCount/hours, eventCount/hours/flushes
	evs := make([]event, eventCount)
	for i := range evs {
		ev := event{ID: fmt.Sprintf("ev-%04d", i), Key: fmt.Sprintf("k-%02d", rng.IntN(keyCount)), Hour: i / perHour, Flush: i % perHour / perFlush}
		at := flushAt(first.Add(time.Duration(ev.Hour)*time.Hour), ev.Flush).Add(-time.Duration(perFlush-i%perFlush) * time.Second)
		data, err := json.Marshal(map[string]any{"id": ev.ID, "type": types[rng.IntN(len(types))], "partitionKey": ev.Key, "timestamp": at.UnixMilli(),
			"detail": map[string]any{"n": i, "amount": rng.IntN(10000)}})
		if err != nil {
			t.Fatal(err)
		}
		ev.Data = data
		evs[i] = ev
	}
	return evs
}

// tap records the SQS message bodies a queue's function is handed, and invokes it.
type tap struct {
	fn     sources.Invoker
	mu     sync.Mutex
	bodies []string
}

// Invoke implements sources.Invoker.
func (tp *tap) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var in events.SQSEvent
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, err
	}
	tp.mu.Lock()
	for _, r := range in.Records {
		tp.bodies = append(tp.bodies, r.Body)
	}
	tp.mu.Unlock()
	return tp.fn.Invoke(ctx, payload)
}

func (tp *tap) all() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.bodies...)
}

// TestProducerToLakeToPipeline is scenario 1: 2,000 events over 50 keys and 2 past hours, put with package producer,
// go through the lake, the observer and the pipeline under IAM; the observer's delays (its template's
// DELAY_SECONDS) are made 1 s by a DelayFront.
//
// The hours are run as the blueprint expects them in AWS: each hour's objects land in flushes, the monitor counting
// each as it comes; the watch's schedule (minute 5 of each hour) expects the first hour before its first object and
// the second hour after its objects, the two orders EventBridge may deliver them in; the observer's readings run
// once every object has landed, as the blueprint's quiet window (UNCHANGED readings DELAY_SECONDS apart, longer than
// Firehose's buffering interval) makes them in AWS.
func TestProducerToLakeToPipeline(t *testing.T) {
	// GIVEN the blueprint deployed under IAM; the lake's delivery stream, the monitor's and the observer's queue
	// mappings and the rules of the templates driven from their settings, with AWS's services' (the admin's)
	// credentials; the monitor and the observer with their delays made 1 s; a queue subscribed to the observer's
	// topic and a rule on its bus sending DataSetReady events to a queue, to read the announcements
	began := time.Now()
	r := rehearsal.Start(t, rehearsal.AssemblyDir(t), rehearsal.WithoutEcho())
	started := time.Now()
	bp := findBlueprint(t, r)
	ctx, cancel := context.WithTimeout(t.Context(), scenarioTimeout)
	defer cancel()
	admin := r.AdminConfig()
	if !permits(r, bp.starter, bp.ready.ARN) {
		t.Errorf("no AWS::Lambda::Permission lets the rule %s invoke the starter %s: EventBridge could not start the pipeline", bp.ready.ARN, bp.starter.ARN())
	}
	delay := delaySeconds(t, bp.observerFn)
	unchanged, err := strconv.Atoi(bp.observerFn.Environment["UNCHANGED"])
	if err != nil {
		t.Fatal(err)
	}
	// Time on the observer's queues runs DELAY_SECONDS times faster: its delays, and the visibility timeout after
	// which a message a function failed is received again.
	scale := sources.ScaleDelays(float64(time.Second) / float64(delay))
	retryAfter := scale("", bp.visibility)
	monitorFn, monitorDelays := delayedFunction(t, r, bp.monitor, scale)
	observerFn, observerDelays := delayedFunction(t, r, bp.observerFn, scale)
	counted, read := &tap{fn: monitorFn}, &tap{fn: observerFn}
	monitor, err := sources.NewSQS(ctx, admin, bp.monitorMapping, counted, sources.WithFailedVisibility(retryAfter))
	if err != nil {
		t.Fatal(err)
	}
	obs, err := sources.NewSQS(ctx, admin, bp.observerMapping, read, sources.WithFailedVisibility(retryAfter), sources.WithPollInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	fire, err := sources.NewFirehose(ctx, admin, bp.lake, bp.transform)
	if err != nil {
		t.Fatal(err)
	}
	bus, err := sources.NewEventBridge(ctx, admin, bp.rules, func(functionARN string) sources.Invoker {
		if fn := r.FunctionNamed(functionARN[strings.LastIndex(functionARN, ":")+1:]); fn != nil && fn.ARN() == functionARN {
			return fn
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	onTopic := subscribedQueue(t, admin, bp.topicARN)
	onBus := readyQueue(t, admin, bp.bus)
	t.Cleanup(func() {
		if t.Failed() {
			for name, fn := range map[string]interface{ Logs() string }{"monitor": monitorFn, "observer": observerFn, "starter": bp.starter} {
				t.Logf("%s's log:\n%s", name, fn.Logs())
			}
		}
	})

	// WHEN the events of two past hours are put with package producer, flush by flush, each flush written to the
	// lake and counted by the monitor, the watch's schedule run for each hour, then the observer's readings and the
	// pipeline's rule run until their queues are empty
	first := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	evs := makeEvents(t, first)
	prod := producer.New(kinesis.NewFromConfig(admin), bp.streamARN)
	for h := 0; h < hours; h++ {
		hour := first.Add(time.Duration(h) * time.Hour)
		// The watch's schedule (minute 5) expects the first hour before its first object lands, the second after its
		// last.
		scheduled := hour // the schedule has run until then
		if h == 0 {
			scheduled = flushAt(hour, 0).Add(time.Minute)
			schedule(ctx, t, bus, hour, scheduled)
			drain(ctx, t, monitor)
		}
		for f := 0; f < flushes; f++ {
			var recs []producer.Record
			for _, ev := range evs {
				if ev.Hour == h && ev.Flush == f {
					recs = append(recs, producer.Record{PartitionKey: ev.Key, Data: ev.Data})
				}
			}
			putAt := time.Now()
			if err := prod.PutBatch(ctx, recs); err != nil {
				t.Fatalf("put the events of hour %d, flush %d: %v", h, f, err)
			}
			at := flushAt(hour, f)
			fire.SetArrivalClock(func(arrival time.Time) time.Time { return at.Add(arrival.Sub(putAt)) })
			drain(ctx, t, fire)
			drain(ctx, t, monitor)
		}
		schedule(ctx, t, bus, scheduled, hour.Add(time.Hour))
		drain(ctx, t, monitor)
	}
	lakeWritten := time.Now()
	drain(ctx, t, obs)
	observed := time.Now()
	drain(ctx, t, bus)
	t.Logf("rehearsal started in %s; %d events put, written to the lake and counted in %s; observed in %s; the pipeline started in %s",
		started.Sub(began).Round(time.Millisecond), len(evs), lakeWritten.Sub(started).Round(time.Millisecond),
		observed.Sub(lakeWritten).Round(time.Millisecond), time.Since(observed).Round(time.Millisecond))
	t.Logf("lake %+v; monitor %+v; observer %+v; EventBridge %+v", fire.Stats(), monitor.Stats(), obs.Stats(), bus.Stats())

	// THEN the lake holds every event exactly once, under the hour it stands for having arrived in, in one object per
	// flush, as the producer wrote it with its record's metadata; nothing went to the error output
	objects := map[string][]sources.DeliveredObject{} // data set → its objects
	for _, o := range fire.Objects() {
		if o.Error {
			t.Errorf("error object %s", o.Key)
			continue
		}
		ds := observer.DataSetOf([]observer.Watch{bp.watch}, o.Bucket, o.Key)
		objects[ds] = append(objects[ds], o)
	}
	checkLake(t, admin, bp, evs, first, fire.Objects())
	dataSets := make([]string, hours)
	for h := range dataSets {
		dataSets[h] = bp.lakeBucket + "/" + bp.watch.Prefix + first.Add(time.Duration(h)*time.Hour).Format("2006/01/02/15/")
		if n := len(objects[dataSets[h]]); n != flushes {
			t.Errorf("data set %s has %d objects, want one per flush (%d)", dataSets[h], n, flushes)
		}
	}
	if len(objects) != hours {
		t.Errorf("the lake's objects fall in data sets %v, want %v", keys(objects), dataSets)
	}

	// AND the counters count each hour's objects once, each hour completed once, never timed out; the first hour was
	// expected by the schedule before its objects, the second was seen before its schedule came and was not
	wantCounters := map[string]int64{}
	for ds, os := range objects {
		wantCounters[ds] = int64(len(os))
	}
	counters, markers := scanCounters(t, admin, bp.countersTable)
	for h, ds := range dataSets {
		c, ok := counters[ds]
		if !ok {
			t.Errorf("no counter of %s", ds)
			continue
		}
		if c.Count != wantCounters[ds] || c.Overwrites != 0 || c.Completions != 1 || c.Timeouts != 0 || c.Observing || c.Pending != "" || (c.ExpectedAt != 0) != (h == 0) {
			t.Errorf("counter %+v, want %d objects, one completion, expected before its objects: %v", c, wantCounters[ds], h == 0)
		}
	}
	if len(counters) != hours || len(markers) != 2*len(fire.Objects()) {
		t.Errorf("counters of %v and %d markers, want the %d hours and two markers per object (%d)", keys(counters), len(markers), hours, 2*len(fire.Objects()))
	}

	// AND the observer announced each hour exactly once, on its topic and on its bus, with its objects, after
	// UNCHANGED readings without a change; nothing timed out
	announced := checkAnnouncements(t, admin, onTopic, onBus, dataSets, wantCounters, unchanged)

	// AND the pipeline started exactly one execution per hour, named after the data set's completion, with the
	// announcement as input
	checkExecutions(t, admin, bp.stateMachineARN, announced)
	if s := bus.Stats(); s.Invocations != hours || s.Failed != 0 || s.Retries != 0 || s.Scheduled != hours {
		t.Errorf("EventBridge %+v, want the starter invoked once per hour and the watch's schedule run once per hour", s)
	}

	// AND every delay the monitor and the observer asked for was their template's DELAY_SECONDS, sent as 1 s
	for name, front := range map[string]*sources.DelayFront{"monitor": monitorDelays, "observer": observerDelays} {
		ds := front.Delays()
		if len(ds) == 0 {
			t.Errorf("the %s sent no reading", name)
		}
		for _, d := range ds {
			if d.Requested != delay || d.Applied != time.Second {
				t.Errorf("%s's delay %+v, want %s asked, 1 s applied", name, d, delay)
			}
		}
	}

	// WHEN, after the announcements, an S3 event of the lake is delivered again to the monitor's queue, the reading
	// that completed the first hour is delivered again to the observer's queue, and the first hour's DataSetReady
	// event is delivered again to the pipeline's rule
	redelivered := time.Now()
	s3Event := firstBody(t, counted.all(), func(body string) bool { return strings.Contains(body, `"Object Created"`) })
	ending := endingReading(t, read.all(), dataSets[0])
	send(t, admin, monitor.QueueURL(), s3Event)
	send(t, admin, obs.QueueURL(), ending)
	var readyEvent json.RawMessage
	for _, d := range bus.Deliveries() {
		if d.Rule == bp.ready.ARN && strings.Contains(string(d.Event), dataSets[0]) {
			readyEvent = d.Event
		}
	}
	if readyEvent == nil {
		t.Fatalf("no DataSetReady event of %s reached the pipeline's rule", dataSets[0])
	}
	monitorBefore, observerBefore, busBefore := monitor.Stats(), obs.Stats(), bus.Stats()
	if err := bus.Deliver(ctx, bp.ready.ARN, readyEvent); err != nil {
		t.Fatal(err)
	}
	drain(ctx, t, monitor)
	drain(ctx, t, obs)
	drain(ctx, t, bus)
	t.Logf("redeliveries handled in %s", time.Since(redelivered).Round(time.Millisecond))

	// THEN each was handled, and changed nothing: the counters and markers are as they were, no announcement was
	// made, and the pipeline started no second execution
	if m, o, b := monitor.Stats(), obs.Stats(), bus.Stats(); m.Succeeded != monitorBefore.Succeeded+1 || o.Succeeded != observerBefore.Succeeded+1 ||
		b.Invocations != busBefore.Invocations+1 || b.Failed != 0 {
		t.Errorf("the redeliveries were not all handled: monitor %+v, observer %+v, EventBridge %+v", m, o, b)
	}
	countersAfter, markersAfter := scanCounters(t, admin, bp.countersTable)
	if !reflect.DeepEqual(countersAfter, counters) || !reflect.DeepEqual(markersAfter, markers) {
		t.Errorf("the redeliveries changed the counters:\nbefore %+v\nafter  %+v\n(markers %d, then %d)", counters, countersAfter, len(markers), len(markersAfter))
	}
	if bodies := receiveAll(t, admin, onTopic); len(bodies) != 0 {
		t.Errorf("announcements on the topic after the redeliveries: %q", bodies)
	}
	if bodies := receiveAll(t, admin, onBus); len(bodies) != 0 {
		t.Errorf("DataSetReady events after the redeliveries: %q", bodies)
	}
	checkExecutions(t, admin, bp.stateMachineARN, announced)
	t.Logf("scenario 1 took %s", time.Since(began).Round(time.Millisecond))
}

// scenarioTimeout bounds the scenario once the rehearsal has started: a driver still waiting then (a message failing
// again and again) fails the test instead of hanging it.
const scenarioTimeout = 2 * time.Minute

// drain runs a driver until its source is empty.
func drain(ctx context.Context, t *testing.T, d interface{ Drain(context.Context) error }) {
	t.Helper()
	if err := d.Drain(ctx); err != nil {
		t.Fatalf("%T: %v", d, err)
	}
}

// schedule sends the events of the templates' schedules in [from, to).
func schedule(ctx context.Context, t *testing.T, bus *sources.EventBridge, from, to time.Time) {
	t.Helper()
	if _, err := bus.Schedule(ctx, from, to); err != nil {
		t.Fatal(err)
	}
}

// checkLake reads every object of the lake's bucket and checks that it is one the Firehose driver wrote, under the
// hour its records stand for having arrived in, and that the lake holds every event exactly once, with its record's
// metadata and its flush's arrival time.
func checkLake(t *testing.T, cfg aws.Config, bp *blueprint, evs []event, first time.Time, written []sources.DeliveredObject) {
	t.Helper()
	ctx := context.Background()
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	wrote := map[string]sources.DeliveredObject{}
	for _, o := range written {
		wrote[o.Key] = o
	}
	byID := map[string]event{}
	for _, ev := range evs {
		byID[ev.ID] = ev
	}
	seen := map[string]int{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bp.lakeBucket})
	listed := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, obj := range page.Contents {
			listed++
			key := aws.ToString(obj.Key)
			o, ok := wrote[key]
			if !ok {
				t.Errorf("object %s is none the Firehose driver wrote", key)
				continue
			}
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bp.lakeBucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			dec, err := lakeline.NewDecoder(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			lines := 0
			for {
				l, _, err := dec.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Errorf("%s: %v", key, err)
					continue
				}
				lines++
				h, err := l.Header()
				ev, known := byID[h.ID]
				if err != nil || !known || l.Metadata == nil {
					t.Errorf("%s: line %s is no event put", key, l.Event)
					continue
				}
				seen[h.ID]++
				hour := first.Add(time.Duration(ev.Hour) * time.Hour)
				arrived := time.UnixMilli(l.Metadata.ApproximateArrivalTimestamp)
				if !bytes.Equal(l.Event, ev.Data) || l.Metadata.PartitionKey != ev.Key || arrived.Before(flushAt(hour, ev.Flush).Add(-time.Second)) ||
					arrived.After(flushAt(hour, ev.Flush).Add(time.Minute)) || !strings.HasPrefix(key, bp.watch.Prefix+hour.Format("2006/01/02/15/")) {
					t.Errorf("%s: line %s arrived %s with key %s: event %s of hour %d, flush %d", key, l.Event, arrived, l.Metadata.PartitionKey, ev.ID, ev.Hour, ev.Flush)
				}
			}
			if lines != o.Records {
				t.Errorf("%s holds %d lines, the driver wrote %d", key, lines, o.Records)
			}
		}
	}
	if listed != len(written) {
		t.Errorf("the bucket holds %d objects, the driver wrote %d", listed, len(written))
	}
	var missing, twice []string
	for _, ev := range evs {
		switch seen[ev.ID] {
		case 1:
		case 0:
			missing = append(missing, ev.ID)
		default:
			twice = append(twice, ev.ID)
		}
	}
	if len(missing) > 0 || len(twice) > 0 || len(seen) != len(evs) {
		t.Errorf("the lake misses events %v and holds events %v more than once (%d distinct events, want %d)", missing, twice, len(seen), len(evs))
	}
}

// scanCounters reads the counter table: the counters by data set, and the monitor's markers by key.
func scanCounters(t *testing.T, cfg aws.Config, table string) (map[string]observer.Counter, map[string]map[string]any) {
	t.Helper()
	counters, markers := map[string]observer.Counter{}, map[string]map[string]any{}
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			var c observer.Counter
			if err := attributevalue.UnmarshalMap(item, &c); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(c.DataSet, "#") {
				var m map[string]any
				if err := attributevalue.UnmarshalMap(item, &m); err != nil {
					t.Fatal(err)
				}
				markers[c.DataSet] = m
				continue
			}
			counters[c.DataSet] = c
		}
	}
	return counters, markers
}

// subscribedQueue subscribes a new queue to a topic for raw delivery and returns its URL.
func subscribedQueue(t *testing.T, cfg aws.Config, topicARN string) string {
	t.Helper()
	url, queueARN := newQueue(t, cfg, "announced")
	_, err := sns.NewFromConfig(cfg).Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: &topicARN, Protocol: aws.String("sqs"),
		Endpoint: &queueARN, Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// readyQueue adds a rule to a bus that sends the observer's events to a new queue (moto delivers them), and returns
// the queue's URL.
func readyQueue(t *testing.T, cfg aws.Config, bus string) string {
	t.Helper()
	ctx := context.Background()
	url, queueARN := newQueue(t, cfg, "ready")
	c := eventbridge.NewFromConfig(cfg)
	name := "scenario-observer-events"
	if _, err := c.PutRule(ctx, &eventbridge.PutRuleInput{Name: &name, EventBusName: &bus,
		EventPattern: aws.String(fmt.Sprintf(`{"source":[%q]}`, observer.EventSource))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: &name, EventBusName: &bus,
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: &queueARN}}}); err != nil {
		t.Fatal(err)
	}
	return url
}

// newQueue creates a queue and returns its URL and ARN.
func newQueue(t *testing.T, cfg aws.Config, name string) (string, string) {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(cfg)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("scenario-" + name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

// receiveAll receives, and deletes, every message visible in a queue.
func receiveAll(t *testing.T, cfg aws.Config, url string) []string {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(cfg)
	var bodies []string
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// send sends a message body to a queue, as its producer delivering it again would.
func send(t *testing.T, cfg aws.Config, url, body string) {
	t.Helper()
	if _, err := sqs.NewFromConfig(cfg).SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body}); err != nil {
		t.Fatal(err)
	}
}

// checkAnnouncements reads the announcements of the topic's and the bus's queues: exactly one DataSetReady per data
// set, the same on both, with the objects counted, after UNCHANGED unchanged readings. It returns them by data set.
func checkAnnouncements(t *testing.T, cfg aws.Config, topicQueue, busQueue string, dataSets []string, objects map[string]int64, unchanged int) map[string]observer.Announcement {
	t.Helper()
	onTopic := map[string][]observer.Announcement{}
	for _, body := range receiveAll(t, cfg, topicQueue) {
		var a observer.Announcement
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatalf("message on the topic %s: %v", body, err)
		}
		onTopic[a.DataSet] = append(onTopic[a.DataSet], a)
	}
	onBus := map[string][]observer.Announcement{}
	for _, body := range receiveAll(t, cfg, busQueue) {
		var ev struct {
			DetailType string                `json:"detail-type"`
			Source     string                `json:"source"`
			Detail     observer.Announcement `json:"detail"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("event on the bus %s: %v", body, err)
		}
		if ev.DetailType != observer.DataSetReady || ev.Source != observer.EventSource {
			t.Errorf("event on the bus: %s", body)
			continue
		}
		onBus[ev.Detail.DataSet] = append(onBus[ev.Detail.DataSet], ev.Detail)
	}
	out := map[string]observer.Announcement{}
	for _, ds := range dataSets {
		if len(onTopic[ds]) != 1 || len(onBus[ds]) != 1 {
			t.Errorf("%s announced %d times on the topic and %d times on the bus, want once on each", ds, len(onTopic[ds]), len(onBus[ds]))
			continue
		}
		a := onTopic[ds][0]
		if !reflect.DeepEqual(a, onBus[ds][0]) {
			t.Errorf("%s announced as %+v on the topic, %+v on the bus", ds, a, onBus[ds][0])
		}
		if a.Objects != objects[ds] || a.Completion != 1 || a.Overwrites != 0 || a.Readings != int64(unchanged+1) || a.FirstChange.IsZero() || a.ObservationID == "" {
			t.Errorf("announcement %+v, want %d objects, completion 1, after %d readings", a, objects[ds], unchanged+1)
		}
		out[ds] = a
	}
	if len(onTopic) != len(dataSets) || len(onBus) != len(dataSets) {
		t.Errorf("announcements of %v on the topic and %v on the bus, want %v", keys(onTopic), keys(onBus), dataSets)
	}
	return out
}

// checkExecutions lists the state machine's executions: exactly one per announcement, named after its data set's
// completion, with the announcement as input.
func checkExecutions(t *testing.T, cfg aws.Config, stateMachineARN string, announced map[string]observer.Announcement) {
	t.Helper()
	c := sfn.NewFromConfig(cfg)
	want := map[string]observer.Announcement{}
	for _, a := range announced {
		want[pipeline.ExecutionName(a.DataSet, a.Completion)] = a
	}
	var names []string
	p := sfn.NewListExecutionsPaginator(c, &sfn.ListExecutionsInput{StateMachineArn: &stateMachineARN})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range page.Executions {
			name := aws.ToString(ex.Name)
			names = append(names, name)
			a, ok := want[name]
			if !ok {
				continue
			}
			out, err := c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			var input observer.Announcement
			if err := json.Unmarshal([]byte(aws.ToString(out.Input)), &input); err != nil || !reflect.DeepEqual(input, a) {
				t.Errorf("execution %s has input %s, want %+v", name, aws.ToString(out.Input), a)
			}
		}
	}
	sort.Strings(names)
	if wantNames := keys(want); !reflect.DeepEqual(names, wantNames) || len(names) != hours {
		t.Errorf("executions %v, want one per hour: %v", names, wantNames)
	}
}

// firstBody returns the first body that keep accepts.
func firstBody(t *testing.T, bodies []string, keep func(string) bool) string {
	t.Helper()
	for _, b := range bodies {
		if keep(b) {
			return b
		}
	}
	t.Fatal("no such message was handed over")
	return ""
}

// endingReading returns the reading of a data set's observation with the highest step: the one that completed it.
func endingReading(t *testing.T, bodies []string, dataSet string) string {
	t.Helper()
	var last string
	var step int64
	for _, b := range bodies {
		var r observer.Reading
		if json.Unmarshal([]byte(b), &r) == nil && r.DataSet == dataSet && r.Step > step {
			last, step = b, r.Step
		}
	}
	if last == "" {
		t.Fatalf("no reading of %s was handed to the observer", dataSet)
	}
	return last
}

// keys returns a map's keys, sorted.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
