package rehearsal

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// withEnv returns the one function whose template environment sets every key (the variables each handler reads are
// defined in its runtime package, so they name the handler better than a logical id).
func withEnv(t *testing.T, r *Rehearsal, keys ...string) *Function {
	t.Helper()
	var found []*Function
	for _, fn := range r.Functions() {
		if !slices.ContainsFunc(keys, func(k string) bool { _, ok := fn.Environment[k]; return !ok }) {
			found = append(found, fn)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d functions have the environment variables %v, want 1", len(found), keys)
	}
	return found[0]
}

// kinesisEvent is what Lambda hands a function subscribed to the event stream: one record of an event.
func kinesisEvent(t *testing.T, streamARN, id, typ, partitionKey string, seq int) []byte {
	t.Helper()
	now := time.Now()
	data, err := json.Marshal(map[string]any{"id": id, "type": typ, "timestamp": now.UnixMilli(), "partitionKey": partitionKey})
	if err != nil {
		t.Fatal(err)
	}
	seqNo := fmt.Sprintf("4960%052d", seq)
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{{
		EventSource: "aws:kinesis", EventSourceArn: streamARN, EventName: "aws:kinesis:record", EventVersion: "1.0",
		AwsRegion: Region, EventID: "shardId-000000000000:" + seqNo,
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/rehearsal",
		Kinesis: events.KinesisRecord{Data: data, PartitionKey: partitionKey, SequenceNumber: seqNo, KinesisSchemaVersion: "1.0",
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: now}},
	}}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// objectCreated is an SQS batch of one EventBridge "Object Created" event, as the observer's queue carries them.
func objectCreated(t *testing.T, bucket, key string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"version": "0", "id": "ev-" + key, "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
		"time": time.Now().UTC().Format(time.RFC3339), "region": Region, "resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{"bucket": map[string]any{"name": bucket},
			"object": map[string]any{"key": key, "size": 100, "etag": "e-" + key, "sequencer": "0055AED6DCD90281E5"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "msg-" + key, ReceiptHandle: "rh", Body: string(body), EventSource: "aws:sqs", AWSRegion: Region,
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:rehearsal",
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dataSetReady is the observer's DataSetReady announcement of a data set, as EventBridge delivers it.
func dataSetReady(t *testing.T, dataSet string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "ready-" + dataSet, "detail-type": "DataSetReady", "source": "eventlake.observer",
		"account": "123456789012", "time": time.Now().UTC().Format(time.RFC3339), "region": Region, "resources": []string{},
		"detail": map[string]any{"dataSet": dataSet, "objects": 3, "completion": 1, "observationId": "obs-" + dataSet, "readings": 4},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a testing.TB that keeps the errors reported to it instead of failing the test: it shows what a check
// would fail a test with.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Error(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprint(args...))
}

func (r *recorder) Errorf(format string, args ...any) { r.Error(fmt.Sprintf(format, args...)) }

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errors) > 0
}

func (r *recorder) report() string { return strings.Join(r.errors, "\n") }
