// Package producer writes events to the event stream with their partition key, keeping each key's order.
//
// Kinesis orders records only within a shard, by the order it accepts them. [Producer.Put] writes one event with
// PutRecord and SequenceNumberForOrdering set to the sequence number of the key's previous event, which is the
// documented way to keep strict order per key. [Producer.PutBatch] writes many events over PutRecords, which can
// fail any record while accepting the ones after it: so each call carries at most one pending event per key, and a
// key's next event is sent only once the one before it is accepted. Failed records are retried with capped, jittered
// exponential backoff; no key's events are ever reordered.
//
// PutRecords: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Limits of one PutRecords call.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 5 << 20
)

// KinesisAPI is the part of the Kinesis API the producer uses.
type KinesisAPI interface {
	PutRecord(context.Context, *kinesis.PutRecordInput, ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
	PutRecords(context.Context, *kinesis.PutRecordsInput, ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Record is one event to write.
type Record struct {
	// PartitionKey is the entity the event is about; it chooses the shard.
	PartitionKey string
	// Data is the event.
	Data []byte
}

// Producer writes to one stream. It is safe for concurrent use; Put calls for one key are serialized.
type Producer struct {
	client    KinesisAPI
	streamARN string
	// MaxAttempts bounds how often PutBatch sends one record. Default 10.
	MaxAttempts int
	// MaxBackoff caps the wait between PutBatch attempts. Default 5 s.
	MaxBackoff time.Duration

	mu   sync.Mutex
	last map[string]string      // partition key -> sequence number of its last event
	keys map[string]*sync.Mutex // partition key -> serializes Put for that key
}

// New returns a producer for the stream with the given ARN.
func New(client KinesisAPI, streamARN string) *Producer {
	return &Producer{client: client, streamARN: streamARN, last: map[string]string{}, keys: map[string]*sync.Mutex{}}
}

// Put writes one event, marshalled to JSON, after every event Put wrote earlier for the same key. It returns the
// record's sequence number.
func (p *Producer) Put(ctx context.Context, partitionKey string, event any) (string, error) {
	data, err := json.Marshal(event)
	if err != nil {
		return "", fmt.Errorf("marshal event for %s: %w", partitionKey, err)
	}
	p.mu.Lock()
	keyMu, ok := p.keys[partitionKey]
	if !ok {
		keyMu = &sync.Mutex{}
		p.keys[partitionKey] = keyMu
	}
	p.mu.Unlock()
	keyMu.Lock()
	defer keyMu.Unlock()

	p.mu.Lock()
	prev := p.last[partitionKey]
	p.mu.Unlock()
	in := &kinesis.PutRecordInput{StreamARN: &p.streamARN, PartitionKey: &partitionKey, Data: data}
	if prev != "" {
		in.SequenceNumberForOrdering = &prev
	}
	out, err := p.client.PutRecord(ctx, in)
	if err != nil {
		return "", fmt.Errorf("put event for %s: %w", partitionKey, err)
	}
	p.mu.Lock()
	p.last[partitionKey] = *out.SequenceNumber
	p.mu.Unlock()
	return *out.SequenceNumber, nil
}

// BatchError reports the records PutBatch could not write; every record of the same key after one of them was not
// written either.
type BatchError struct {
	// Unwritten are the records not written, in their input order.
	Unwritten []Record
	// Last is the last error seen.
	Last error
}

// Error says how many records were not written and why.
func (e *BatchError) Error() string {
	return fmt.Sprintf("%d records not written: %v", len(e.Unwritten), e.Last)
}

// Unwrap returns the last error seen.
func (e *BatchError) Unwrap() error { return e.Last }

// PutBatch writes records, keeping the order of each partition key's records as given. It returns a *BatchError
// naming what it could not write.
func (p *Producer) PutBatch(ctx context.Context, records []Record) error {
	maxAttempts := p.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 10
	}
	maxBackoff := p.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 5 * time.Second
	}
	backoff := retry.NewExponentialJitterBackoff(maxBackoff)

	// Pending records per key, in order; keys in order of first appearance.
	queues := map[string][]int{}
	var keys []string
	for i, r := range records {
		if _, ok := queues[r.PartitionKey]; !ok {
			keys = append(keys, r.PartitionKey)
		}
		queues[r.PartitionKey] = append(queues[r.PartitionKey], i)
	}
	attempts := make([]int, len(records))
	var last error
	failedRounds := 0
	for len(keys) > 0 {
		// One call: the head of each key's queue, within PutRecords' limits.
		var batch []int
		size := 0
		for _, k := range keys {
			i := queues[k][0]
			n := len(records[i].Data) + len(records[i].PartitionKey)
			if len(batch) == MaxBatchRecords || (len(batch) > 0 && size+n > MaxBatchBytes) {
				break
			}
			batch = append(batch, i)
			size += n
		}
		entries := make([]types.PutRecordsRequestEntry, len(batch))
		for j, i := range batch {
			entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(records[i].PartitionKey), Data: records[i].Data}
			attempts[i]++
		}
		out, err := p.client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &p.streamARN, Records: entries})
		progress := false
		if err != nil {
			last = err
		} else {
			for j, res := range out.Records {
				i := batch[j]
				k := records[i].PartitionKey
				if res.ErrorCode != nil {
					last = fmt.Errorf("record %d (key %s): %s: %s", i, k, *res.ErrorCode, aws.ToString(res.ErrorMessage))
					continue
				}
				progress = true
				queues[k] = queues[k][1:]
			}
		}
		// Drop finished keys; give up on a key whose head has used its attempts.
		next := keys[:0]
		for _, k := range keys {
			if len(queues[k]) > 0 && attempts[queues[k][0]] < maxAttempts {
				next = append(next, k)
			}
		}
		keys = next
		if len(keys) == 0 {
			break
		}
		if progress {
			failedRounds = 0
			continue
		}
		failedRounds++
		delay, _ := backoff.BackoffDelay(failedRounds, last)
		select {
		case <-ctx.Done():
			last = ctx.Err()
			keys = nil
		case <-time.After(delay):
		}
	}
	pending := map[int]bool{}
	for _, q := range queues {
		for _, i := range q {
			pending[i] = true
		}
	}
	var unwritten []Record
	for i, r := range records {
		if pending[i] {
			unwritten = append(unwritten, r)
		}
	}
	if len(unwritten) > 0 {
		return &BatchError{Unwritten: unwritten, Last: last}
	}
	return nil
}
