package eventstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/internal/batchwrite"
	"github.com/eventlake/eventlake/lake"
)

// DefaultInlineLimit is the largest event stored in its item; larger ones go to S3. DynamoDB items hold 400 KB,
// attribute names and the other attributes included.
const DefaultInlineLimit = 350 << 10

// WriteAPI is the part of DynamoDB the writer uses.
type WriteAPI = batchwrite.API

// PayloadAPI is the part of S3 that stores oversized events.
type PayloadAPI interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Writer stores the events of a Kinesis batch.
type Writer struct {
	// DB writes the items.
	DB WriteAPI
	// Table is the event store table.
	Table string
	// Payloads stores events larger than InlineLimit.
	Payloads PayloadAPI
	// Bucket is where Payloads stores them, under payloads/.
	Bucket string
	// Shards is the number of byTime write shards. Default DefaultShards.
	Shards int
	// InlineLimit is the largest event kept in its item. Default DefaultInlineLimit.
	InlineLimit int
	// MaxAttempts bounds the writes of one item DynamoDB leaves unprocessed. Default batchwrite.DefaultMaxAttempts (8).
	MaxAttempts int
	// Logger logs failed records. Default slog.Default().
	Logger *slog.Logger
}

// Handle stores the batch and reports the first record it could not store, so Lambda retries from it (storing is
// idempotent: what was stored after it is stored again, once). Every record not stored is logged with its error.
func (w *Writer) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	failed, _ := w.Write(ctx, in.Records)
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if failed >= 0 {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: in.Records[failed].Kinesis.SequenceNumber})
	}
	return resp, nil
}

// Write stores the records and returns the index of the first one not stored and why, or -1 and nil. It logs every
// record not stored, with its error: DynamoDB's (an error of BatchWriteItem is not retried), one wrapping
// batchwrite.ErrUnprocessed when DynamoDB left the item unprocessed MaxAttempts times, or the record's own problem.
func (w *Writer) Write(ctx context.Context, records []events.KinesisEventRecord) (int, error) {
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	shards := w.Shards
	if shards == 0 {
		shards = DefaultShards
	}
	firstFailed := -1
	var firstErr error
	fail := func(i int, err error) {
		log.WarnContext(ctx, "record not stored", "sequenceNumber", records[i].Kinesis.SequenceNumber, "partitionKey", records[i].Kinesis.PartitionKey, "error", err)
		if firstFailed < 0 || i < firstFailed {
			firstFailed, firstErr = i, err
		}
	}

	type pending struct {
		indexes []int // the records this item stands for (a record delivered twice in one batch)
		item    map[string]types.AttributeValue
	}
	var queue []*pending
	byKey := map[string]*pending{}
	for i, rec := range records {
		it, err := w.item(ctx, rec, shards)
		if err != nil {
			fail(i, err)
			continue
		}
		key := it.PK + "\x00" + it.SK
		if p, ok := byKey[key]; ok {
			p.indexes = append(p.indexes, i)
			continue
		}
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			fail(i, err)
			continue
		}
		p := &pending{indexes: []int{i}, item: av}
		byKey[key] = p
		queue = append(queue, p)
	}
	items := make([]map[string]types.AttributeValue, len(queue))
	for j, p := range queue {
		items[j] = p.item
	}
	for _, f := range batchwrite.Put(ctx, w.DB, w.Table, items, []string{AttrPK, AttrSK}, w.MaxAttempts) {
		for _, i := range queue[f.Index].indexes {
			fail(i, f.Err)
		}
	}
	return firstFailed, firstErr
}

// item turns a record into the item that stores it; an oversized event goes to S3 first.
func (w *Writer) item(ctx context.Context, rec events.KinesisEventRecord, shards int) (item, error) {
	k := rec.Kinesis
	var compact bytes.Buffer
	if err := json.Compact(&compact, k.Data); err != nil || compact.Len() == 0 || compact.Bytes()[0] != '{' {
		return item{}, fmt.Errorf("data is not a JSON object event (%d bytes)", len(k.Data))
	}
	line := lake.Line{Event: compact.Bytes()}
	h, _ := line.Header()
	pos := Position(k.SequenceNumber, 0)
	arrival := lake.ArrivalTime(k.ApproximateArrivalTimestamp) // whole ms, before the hour and the sort key are taken
	it := item{
		PK: k.PartitionKey, SK: pos, TPK: TimePK(arrival.Truncate(time.Hour), Shard(k.PartitionKey, shards)), TSK: TimeSK(arrival, pos),
		Type: h.Type, ID: h.ID, TS: h.Timestamp, Arrival: arrival.UnixMilli(), Shard: shardOf(rec.EventID), Seq: k.SequenceNumber,
		Size: compact.Len(),
	}
	limit := w.InlineLimit
	if limit == 0 {
		limit = DefaultInlineLimit
	}
	if compact.Len() <= limit {
		it.Event = compact.String()
		return it, nil
	}
	if w.Payloads == nil || w.Bucket == "" {
		return item{}, fmt.Errorf("event of %d bytes is over the %d-byte item limit and no payload bucket is set", compact.Len(), limit)
	}
	sum := sha256.Sum256([]byte(it.PK))
	key := fmt.Sprintf("payloads/%s/%s.json", hex.EncodeToString(sum[:8]), pos)
	if _, err := w.Payloads.PutObject(ctx, &s3.PutObjectInput{Bucket: &w.Bucket, Key: &key, Body: bytes.NewReader(compact.Bytes()),
		ContentType: aws.String("application/json")}); err != nil {
		return item{}, fmt.Errorf("store the %d-byte payload in s3://%s/%s: %w", compact.Len(), w.Bucket, key, err)
	}
	it.PayloadRef = "s3://" + w.Bucket + "/" + key
	return it, nil
}

// shardOf takes the shard id out of an event id "shardId-000000000001:4959…".
func shardOf(eventID string) string {
	for i := range len(eventID) {
		if eventID[i] == ':' {
			return eventID[:i]
		}
	}
	return ""
}
