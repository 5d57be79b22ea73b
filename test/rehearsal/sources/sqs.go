package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS emulates a Lambda event source mapping of a standard SQS queue: it receives messages from moto's SQS with the
// queue's own visibility timeout, invokes the function with the events.SQSEvent Lambda sends, deletes the messages
// that succeeded and leaves the others in the queue.
//
// What it emulates:
//   - the event: Records with messageId, receiptHandle, body, attributes (the system attributes SQS returns, such
//     as ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp), messageAttributes in
//     Lambda's form ({"stringValue", "stringListValues": [], "binaryListValues": [], "dataType"}),
//     md5OfMessageAttributes when there are some, md5OfBody, eventSource aws:sqs, eventSourceARN, awsRegion;
//   - batches of up to BatchSize messages: the driver receives (10 at most per ReceiveMessage) until the batch is
//     full or a receive comes back empty;
//   - ReportBatchItemFailures: the messages reported (by messageId) stay, the others are deleted; an empty, null
//     or unknown itemIdentifier fails the whole batch; a function error leaves the whole batch;
//   - retries and dead-letter queues are moto's: a message left in the queue becomes visible again after the
//     visibility timeout, its ApproximateReceiveCount grows, and moto moves it to the queue's dead-letter queue
//     when it is received once more past the redrive policy's maxReceiveCount, as SQS does. WithFailedVisibility
//     shortens the wait (ChangeMessageVisibility), which Lambda does not do;
//   - delays are moto's, in real time: a delayed message is received when its delay has passed (see DelayFront to
//     shorten the delays a function asks for).
//
// What it does not emulate: the batching window is not waited for; filter criteria (refused); the 6 MB payload limit
// (an SQS batch of 10 cannot reach it); FIFO queues beyond what moto does (message groups are moto's; Lambda's
// stopping of a group after a failure is not emulated); Lambda's concurrency scaling (one batch at a time);
// ScalingConfig and metrics.
//
// Poll and Drain are not safe for concurrent use; Stats may be called at any time.
type SQS struct {
	client   *sqs.Client
	s        SQSSettings
	fn       Invoker
	o        options
	queueURL string
	region   string

	mu    sync.Mutex
	stats Stats
}

// NewSQS makes an SQS driver for a mapping of settings to fn, receiving from the queue at cfg's endpoint (moto).
func NewSQS(ctx context.Context, cfg aws.Config, s SQSSettings, fn Invoker, opts ...Option) (*SQS, error) {
	if fn == nil {
		return nil, fmt.Errorf("SQS driver: no function to invoke")
	}
	if len(s.FilterPatterns) > 0 {
		return nil, fmt.Errorf("SQS driver: filter criteria are not emulated for SQS mappings")
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultSQSBatchSize
	}
	a, err := arn.Parse(s.EventSourceARN)
	if err != nil || a.Service != "sqs" {
		return nil, fmt.Errorf("SQS driver: %q is not an SQS queue ARN", s.EventSourceARN)
	}
	q := &SQS{client: sqs.NewFromConfig(cfg), s: s, fn: fn, o: newOptions(opts), region: a.Region}
	out, err := q.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource), QueueOwnerAWSAccountId: aws.String(a.AccountID)})
	if err != nil {
		return nil, fmt.Errorf("SQS driver: queue %s: %w", s.EventSourceARN, err)
	}
	q.queueURL = aws.ToString(out.QueueUrl)
	return q, nil
}

// QueueURL is the URL of the queue the driver receives from.
func (q *SQS) QueueURL() string { return q.queueURL }

// Stats returns what the driver has done so far.
func (q *SQS) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stats
}

func (q *SQS) count(f func(*Stats)) {
	q.mu.Lock()
	f(&q.stats)
	q.mu.Unlock()
}

// Poll receives and processes batches until a receive comes back empty, and returns how many messages it handed to
// the function. It does not wait for messages in flight or delayed.
func (q *SQS) Poll(ctx context.Context) (int, error) {
	if !q.s.Enabled {
		return 0, nil
	}
	total := 0
	for {
		msgs, err := q.receive(ctx)
		if err != nil || len(msgs) == 0 {
			return total, err
		}
		total += len(msgs)
		if err := q.process(ctx, msgs); err != nil {
			return total, err
		}
	}
}

// Drain polls until the queue holds no message at all: none visible, none in flight (received and not deleted,
// such as the ones an invocation failed, until their visibility timeout ends) and none delayed. It waits in real
// time for those, polling every 100 ms (WithPollInterval), until ctx ends.
func (q *SQS) Drain(ctx context.Context) error {
	if !q.s.Enabled {
		return nil
	}
	for {
		n, err := q.Poll(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		left, err := q.waiting(ctx)
		if err != nil {
			return err
		}
		if left == 0 {
			return nil
		}
		if err := sleep(ctx, q.o.pollInterval); err != nil {
			return err
		}
	}
}

// waiting returns how many messages the queue holds, visible, in flight or delayed.
func (q *SQS) waiting(ctx context.Context) (int, error) {
	names := []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.queueURL, AttributeNames: names})
	if err != nil {
		return 0, fmt.Errorf("SQS driver: GetQueueAttributes: %w", err)
	}
	n := 0
	for _, name := range names {
		v, _ := strconv.Atoi(out.Attributes[string(name)])
		n += v
	}
	return n, nil
}

func (q *SQS) receive(ctx context.Context) ([]sqstypes.Message, error) {
	var msgs []sqstypes.Message
	for len(msgs) < q.s.BatchSize {
		out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    &q.queueURL,
			MaxNumberOfMessages:         int32(min(10, q.s.BatchSize-len(msgs))),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return msgs, fmt.Errorf("SQS driver: ReceiveMessage: %w", err)
		}
		if len(out.Messages) == 0 {
			break
		}
		msgs = append(msgs, out.Messages...)
	}
	return msgs, nil
}

// sqsRecord is one record of the SQS event, with Lambda's field order and md5OfMessageAttributes only when the
// message has attributes.
type sqsRecord struct {
	MessageID              string                                `json:"messageId"`
	ReceiptHandle          string                                `json:"receiptHandle"`
	Body                   string                                `json:"body"`
	Attributes             map[string]string                     `json:"attributes"`
	MessageAttributes      map[string]events.SQSMessageAttribute `json:"messageAttributes"`
	MD5OfMessageAttributes string                                `json:"md5OfMessageAttributes,omitempty"`
	MD5OfBody              string                                `json:"md5OfBody"`
	EventSource            string                                `json:"eventSource"`
	EventSourceARN         string                                `json:"eventSourceARN"`
	AWSRegion              string                                `json:"awsRegion"`
}

func (q *SQS) event(msgs []sqstypes.Message) ([]byte, error) {
	recs := make([]sqsRecord, len(msgs))
	for i, m := range msgs {
		r := sqsRecord{
			MessageID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: map[string]string{}, MessageAttributes: map[string]events.SQSMessageAttribute{},
			MD5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes), MD5OfBody: aws.ToString(m.MD5OfBody),
			EventSource: "aws:sqs", EventSourceARN: q.s.EventSourceARN, AWSRegion: q.region,
		}
		for k, v := range m.Attributes {
			r.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType),
				StringListValues: append([]string{}, v.StringListValues...), BinaryListValues: append([][]byte{}, v.BinaryListValues...),
			}
			r.MessageAttributes[k] = a
		}
		recs[i] = r
	}
	return json.Marshal(struct {
		Records []sqsRecord `json:"Records"`
	}{recs})
}

func (q *SQS) process(ctx context.Context, msgs []sqstypes.Message) error {
	payload, err := q.event(msgs)
	if err != nil {
		return err
	}
	q.count(func(s *Stats) { s.Invocations++; s.Records += len(msgs) })
	resp, err := q.fn.Invoke(ctx, payload)
	if err != nil && isContextError(ctx, err) {
		return err
	}
	failed := map[string]bool{}
	switch {
	case err != nil:
		q.count(func(s *Stats) { s.FunctionErrors++ })
		q.o.logf("SQS: %d messages: invocation failed: %v", len(msgs), err)
		for _, m := range msgs {
			failed[aws.ToString(m.MessageId)] = true
		}
	case q.s.ReportBatchItemFailures:
		ids, ok, reason := itemFailures(resp)
		known := map[string]bool{}
		for _, m := range msgs {
			known[aws.ToString(m.MessageId)] = true
		}
		for _, id := range ids {
			if !known[id] {
				ok, reason = false, fmt.Sprintf("itemIdentifier %q is not a messageId of the batch", id)
			}
		}
		if len(ids) > 0 || !ok {
			q.count(func(s *Stats) { s.PartialFailures++ })
		}
		if !ok {
			q.o.logf("SQS: %d messages: the whole batch failed: %s", len(msgs), reason)
			for id := range known {
				failed[id] = true
			}
		} else {
			for _, id := range ids {
				failed[id] = true
			}
			q.o.logf("SQS: %d messages: %d failed", len(msgs), len(ids))
		}
	default:
		q.o.logf("SQS: %d messages: ok", len(msgs))
	}
	var done, left []sqstypes.Message
	for _, m := range msgs {
		if failed[aws.ToString(m.MessageId)] {
			left = append(left, m)
		} else {
			done = append(done, m)
		}
	}
	for i := 0; i < len(done); i += 10 {
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for j, m := range done[i:min(i+10, len(done))] {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: m.ReceiptHandle})
		}
		out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &q.queueURL, Entries: entries})
		if err != nil {
			return fmt.Errorf("SQS driver: DeleteMessageBatch: %w", err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("SQS driver: DeleteMessageBatch: %s: %s", aws.ToString(out.Failed[0].Code), aws.ToString(out.Failed[0].Message))
		}
	}
	q.count(func(s *Stats) { s.Succeeded += len(done); s.Left += len(left) })
	if q.o.failedVis != nil && len(left) > 0 {
		secs := int32(*q.o.failedVis / time.Second)
		for i := 0; i < len(left); i += 10 {
			var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
			for j, m := range left[i:min(i+10, len(left))] {
				entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(j)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: secs})
			}
			if _, err := q.client.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &q.queueURL, Entries: entries}); err != nil {
				return fmt.Errorf("SQS driver: ChangeMessageVisibilityBatch: %w", err)
			}
		}
	}
	return nil
}
