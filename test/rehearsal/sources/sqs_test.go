package sources

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/test/moto"
)

func sqsEvent(t testing.TB, payload []byte) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return ev
}

func send(t testing.TB, c *sqs.Client, url, body string, attrs map[string]sqstypes.MessageAttributeValue) {
	t.Helper()
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: &body, MessageAttributes: attrs}); err != nil {
		t.Fatal(err)
	}
}

func newSQS(t testing.TB, cfg aws.Config, s SQSSettings, fn Invoker, opts ...Option) *SQS {
	t.Helper()
	if s.FunctionName == "" {
		s.FunctionName = "f"
	}
	s.Enabled = true
	q, err := NewSQS(context.Background(), cfg, s, fn, append([]Option{WithLogf(t.Logf)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSQSEventIsWhatLambdaSends(t *testing.T) {
	// GIVEN a message with attributes of each type and one without
	cfg := moto.Config(t)
	url, arn := newQueue(t, cfg, nil)
	c := sqs.NewFromConfig(cfg)
	send(t, c, url, `{"dataSet":"events/2024/01/01/00/"}`, map[string]sqstypes.MessageAttributeValue{
		"kind":  {DataType: aws.String("String"), StringValue: aws.String("reading")},
		"step":  {DataType: aws.String("Number"), StringValue: aws.String("3")},
		"bytes": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
	})
	send(t, c, url, "plain", nil)
	fn := &calls{}
	q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn, BatchSize: 10}, fn)

	// WHEN the queue is drained
	drain(t, q)

	// THEN the function got both messages, each as Lambda writes it, and they were deleted
	got := fn.all()
	if len(got) != 1 {
		t.Fatalf("%d invocations, want 1", len(got))
	}
	var raw struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	json.Unmarshal(got[0], &raw)
	ev := sqsEvent(t, got[0])
	if len(ev.Records) != 2 {
		t.Fatalf("%d records", len(ev.Records))
	}
	sort.Slice(ev.Records, func(i, j int) bool { return ev.Records[i].Body > ev.Records[j].Body })
	for i, r := range ev.Records {
		sum := md5.Sum([]byte(r.Body))
		if r.MessageId == "" || r.ReceiptHandle == "" || r.Md5OfBody != hex.EncodeToString(sum[:]) || r.EventSource != "aws:sqs" ||
			r.EventSourceARN != arn || r.AWSRegion != "us-east-1" || r.Attributes["ApproximateReceiveCount"] != "1" ||
			r.Attributes["SentTimestamp"] == "" || r.Attributes["ApproximateFirstReceiveTimestamp"] == "" {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	withAttrs := ev.Records[0]
	if withAttrs.Md5OfMessageAttributes == "" {
		t.Error("no md5OfMessageAttributes on the message with attributes")
	}
	want := map[string]events.SQSMessageAttribute{
		"kind":  {StringValue: aws.String("reading"), StringListValues: []string{}, BinaryListValues: [][]byte{}, DataType: "String"},
		"step":  {StringValue: aws.String("3"), StringListValues: []string{}, BinaryListValues: [][]byte{}, DataType: "Number"},
		"bytes": {BinaryValue: []byte{1, 2, 3}, StringListValues: []string{}, BinaryListValues: [][]byte{}, DataType: "Binary"},
	}
	if !reflect.DeepEqual(withAttrs.MessageAttributes, want) {
		t.Errorf("messageAttributes %+v", withAttrs.MessageAttributes)
	}
	for _, r := range raw.Records {
		if _, ok := r["md5OfMessageAttributes"]; ok && string(r["messageAttributes"]) == "{}" {
			t.Error("md5OfMessageAttributes on a message without attributes")
		}
		if strings.Contains(string(r["messageAttributes"]), `"kind"`) && !strings.Contains(string(r["messageAttributes"]), `"stringListValues":[]`) {
			t.Errorf("messageAttributes %s: want empty lists, as Lambda sends them", r["messageAttributes"])
		}
	}
	if s := q.Stats(); s.Succeeded != 2 || s.Left != 0 {
		t.Errorf("stats %+v", s)
	}
	if n, _ := q.waiting(context.Background()); n != 0 {
		t.Errorf("%d messages left in the queue", n)
	}
}

func TestSQSBatchSize(t *testing.T) {
	for _, c := range []struct {
		batch  int
		window time.Duration
		want   []int
	}{
		{4, 0, []int{4, 4, 4, 4, 4, 4, 1}},
		{10, 0, []int{10, 10, 5}},
		{20, time.Second, []int{20, 5}}, // more than one ReceiveMessage (10 at most) per batch
	} {
		t.Run(fmt.Sprint(c.batch), func(t *testing.T) {
			// GIVEN 25 messages
			cfg := moto.Config(t)
			url, arn := newQueue(t, cfg, nil)
			c2 := sqs.NewFromConfig(cfg)
			for i := 0; i < 25; i++ {
				send(t, c2, url, fmt.Sprint(i), nil)
			}
			fn := &calls{}
			q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn, BatchSize: c.batch, MaximumBatchingWindow: c.window}, fn)

			// WHEN the queue is drained
			drain(t, q)

			// THEN the function got full batches of the batch size, every message once
			var sizes []int
			seen := map[string]bool{}
			for _, p := range fn.all() {
				ev := sqsEvent(t, p)
				sizes = append(sizes, len(ev.Records))
				for _, r := range ev.Records {
					if seen[r.Body] {
						t.Errorf("message %s delivered twice", r.Body)
					}
					seen[r.Body] = true
				}
			}
			if !reflect.DeepEqual(sizes, c.want) || len(seen) != 25 {
				t.Errorf("batch sizes %v, want %v; %d messages", sizes, c.want, len(seen))
			}
		})
	}
}

func TestSQSPartialFailureDeletesTheRestAndRetriesAfterTheVisibilityTimeout(t *testing.T) {
	// GIVEN three messages in a queue with a 1 s visibility timeout and a function that reports the second failed
	// the first time
	cfg := moto.Config(t)
	url, arn := newQueue(t, cfg, map[string]string{"VisibilityTimeout": "1"})
	c := sqs.NewFromConfig(cfg)
	for _, b := range []string{"a", "b", "c"} {
		send(t, c, url, b, nil)
	}
	var mu sync.Mutex
	var at []time.Time
	fn := &calls{handle: func(n int, p []byte) ([]byte, error) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		for _, r := range sqsEvent(t, p).Records {
			if r.Body == "b" && n == 1 {
				return []byte(fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":%q}]}`, r.MessageId)), nil
			}
		}
		return []byte(`{"batchItemFailures":[]}`), nil
	}}
	q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn, BatchSize: 10, ReportBatchItemFailures: true}, fn)

	// WHEN the queue is drained
	drain(t, q)

	// THEN the second invocation, a visibility timeout later, had the failed message alone, received twice
	got := fn.all()
	if len(got) != 2 {
		t.Fatalf("%d invocations, want 2", len(got))
	}
	ev := sqsEvent(t, got[1])
	if len(ev.Records) != 1 || ev.Records[0].Body != "b" || ev.Records[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Errorf("second invocation %+v", ev.Records)
	}
	if d := at[1].Sub(at[0]); d < 900*time.Millisecond {
		t.Errorf("the failed message came back after %s, before the visibility timeout", d)
	}
	if s := q.Stats(); s.Succeeded != 3 || s.Left != 1 || s.PartialFailures != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestSQSBadItemIdentifierLeavesTheWholeBatch(t *testing.T) {
	// GIVEN two messages and a function that reports a message id that is not in the batch
	cfg := moto.Config(t)
	url, arn := newQueue(t, cfg, map[string]string{"VisibilityTimeout": "60"})
	c := sqs.NewFromConfig(cfg)
	send(t, c, url, "a", nil)
	send(t, c, url, "b", nil)
	fn := &calls{handle: func(int, []byte) ([]byte, error) {
		return []byte(`{"batchItemFailures":[{"itemIdentifier":"not-a-message"}]}`), nil
	}}
	q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn, ReportBatchItemFailures: true}, fn)

	// WHEN the queue is polled
	if _, err := q.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}

	// THEN nothing was deleted: both messages are in flight
	if s := q.Stats(); s.Succeeded != 0 || s.Left != 2 {
		t.Errorf("stats %+v", s)
	}
	if n, _ := q.waiting(context.Background()); n != 2 {
		t.Errorf("%d messages in the queue, want 2", n)
	}
}

func TestSQSRedriveToTheDeadLetterQueue(t *testing.T) {
	// GIVEN the observer's queue settings (a 6-minute visibility timeout, 5 receives before the dead-letter queue),
	// a message, a function that always fails, and failed messages made visible again at once
	cfg := moto.Config(t)
	dlqURL, dlqARN := newQueue(t, cfg, nil)
	url, arn := newQueue(t, cfg, map[string]string{
		"VisibilityTimeout": "360",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":5}`, dlqARN),
	})
	send(t, sqs.NewFromConfig(cfg), url, "poison", nil)
	fn := &calls{handle: func(int, []byte) ([]byte, error) { return nil, fmt.Errorf("boom") }}
	q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn, BatchSize: 10, ReportBatchItemFailures: true}, fn, WithFailedVisibility(0))

	// WHEN the queue is drained
	drain(t, q)

	// THEN the function saw the message five times, counting up, and moto moved it to the dead-letter queue
	var counts []string
	for _, p := range fn.all() {
		for _, r := range sqsEvent(t, p).Records {
			counts = append(counts, r.Attributes["ApproximateReceiveCount"])
		}
	}
	if want := []string{"1", "2", "3", "4", "5"}; !reflect.DeepEqual(counts, want) {
		t.Errorf("receive counts %v, want %v", counts, want)
	}
	if bodies := receiveAll(t, cfg, dlqURL); !reflect.DeepEqual(bodies, []string{"poison"}) {
		t.Errorf("dead-letter queue holds %v", bodies)
	}
	if s := q.Stats(); s.FunctionErrors != 5 || s.Left != 5 || s.Succeeded != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestSQSSettingsFrom(t *testing.T) {
	arn := "arn:aws:sqs:us-east-1:123456789012:readings"
	got, err := SQSSettingsFrom(map[string]any{
		"BatchSize": json.Number("100"), "EventSourceArn": arn, "FunctionName": "monitor",
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"}, "MaximumBatchingWindowInSeconds": json.Number("10"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := SQSSettings{EventSourceARN: arn, FunctionName: "monitor", BatchSize: 100, MaximumBatchingWindow: 10 * time.Second,
		ReportBatchItemFailures: true, Enabled: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("settings %+v, want %+v", got, want)
	}
	if _, err := SQSSettingsFrom(map[string]any{"BatchSize": "100", "EventSourceArn": arn, "FunctionName": "f"}); err == nil {
		t.Error("a batch of 100 without a batching window was accepted")
	}
}

func TestDelayFrontShortensDelays(t *testing.T) {
	// GIVEN a front for SQS that divides delays by 450, and a client that sends through it: a message without delay,
	// a batch with 30 s and 900 s delays, and a query-protocol message with 600 s
	cfg := moto.Config(t)
	url, arn := newQueue(t, cfg, nil)
	front, err := NewDelayFront(moto.Endpoint(t), ScaleDelays(1.0/450))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()
	viaFront := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	start := time.Now()
	if _, err := viaFront.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("now")}); err != nil {
		t.Fatal(err)
	}
	_, err = viaFront.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: []sqstypes.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("900s"), DelaySeconds: 900},
		{Id: aws.String("b"), MessageBody: aws.String("30s"), DelaySeconds: 30},
	}})
	if err != nil {
		t.Fatal(err)
	}
	form := strings.NewReader(neturlValues(map[string]string{"Action": "SendMessage", "QueueUrl": url, "MessageBody": "600s", "DelaySeconds": "600", "Version": "2012-11-05"}))
	req, _ := http.NewRequest(http.MethodPost, srv.URL, form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// moto tells the service from the signature's credential scope.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), "<SendMessageResponse") {
		t.Fatalf("query SendMessage: %s %s", resp.Status, answer)
	}

	// WHEN the queue is drained
	var mu sync.Mutex
	arrived := map[string]time.Duration{}
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range sqsEvent(t, p).Records {
			arrived[r.Body] = time.Since(start)
		}
		return nil, nil
	}}
	q := newSQS(t, cfg, SQSSettings{EventSourceARN: arn}, fn, WithPollInterval(50*time.Millisecond))
	drain(t, q)

	// THEN every delay was recorded as asked and shortened, and the messages arrived in the order of their delays,
	// each after its shortened delay
	var delays []string
	for _, d := range front.Delays() {
		delays = append(delays, fmt.Sprintf("%s->%s", d.Requested, d.Applied))
	}
	if want := []string{"0s->0s", "15m0s->2s", "30s->1s", "10m0s->2s"}; !reflect.DeepEqual(delays, want) {
		t.Errorf("delays %v, want %v", delays, want)
	}
	for body, after := range map[string]time.Duration{"now": 0, "30s": time.Second, "900s": 2 * time.Second, "600s": 2 * time.Second} {
		if arrived[body] < after || arrived[body] > after+3*time.Second {
			t.Errorf("%s arrived after %s, want about %s", body, arrived[body], after)
		}
	}
}

func neturlValues(m map[string]string) string {
	v := url.Values{}
	for k, s := range m {
		v.Set(k, s)
	}
	return v.Encode()
}
