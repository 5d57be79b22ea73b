package microstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/internal/batchwrite"
	"github.com/eventlake/eventlake/lake"
)

// Listener stores the events a service cares about.
type Listener struct {
	// DB writes the items.
	DB batchwrite.API
	// Table is the micro event store table.
	Table string
	// Types are the event types to keep: exact, or globs such as "order-*". Empty keeps every type.
	Types []string
	// KeyField is the event field whose value is the hash key. Default "partitionKey".
	KeyField string
	// RetentionDays sets each event's TTL from its timestamp. Default DefaultRetentionDays.
	RetentionDays int
	// MaxAttempts bounds the writes of one item DynamoDB leaves unprocessed. Default batchwrite.DefaultMaxAttempts (8).
	MaxAttempts int
	// Logger logs the records that are not stored. Default slog.Default().
	Logger *slog.Logger
}

// Item is an event as a micro event store keeps it.
type Item struct {
	// Key is the hash key: the event's partition key or the service's correlation field.
	Key string `dynamodbav:"key"`
	// Pos is the range key: the event's timestamp, then its stream position.
	Pos string `dynamodbav:"pos"`
	// TTL is when DynamoDB may delete the item, in epoch seconds.
	TTL int64 `dynamodbav:"ttl"`
	// Type is the event's type.
	Type string `dynamodbav:"type"`
	// ID is the event's id.
	ID string `dynamodbav:"id"`
	// TS is the event's timestamp in epoch milliseconds.
	TS int64 `dynamodbav:"ts"`
	// Event is the event, compact JSON.
	Event string `dynamodbav:"event"`
}

// Handle stores the batch's matching events. A record without type, id or key field is reported as failed, and so is
// one DynamoDB did not store (an error of BatchWriteItem, which is not retried, or an item left unprocessed MaxAttempts
// times); the other records of the batch are stored all the same. Every failed record is logged with its error. Lambda
// retries from the first failed record (storing is idempotent) and, once retries run out, sends it to the
// subscription's failure destination.
func (l *Listener) Handle(ctx context.Context, in events.KinesisEvent) (events.KinesisEventResponse, error) {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	firstFailed := -1
	fail := func(i int, err error) {
		log.WarnContext(ctx, "record not stored", "sequenceNumber", in.Records[i].Kinesis.SequenceNumber, "error", err)
		if firstFailed < 0 || i < firstFailed {
			firstFailed = i
		}
	}
	var items []map[string]types.AttributeValue
	var index []int
	seen := map[string]bool{}
	for i, rec := range in.Records {
		it, keep, err := l.item(rec)
		if err != nil {
			fail(i, err)
			continue
		}
		if !keep || seen[it.Key+"\x00"+it.Pos] {
			continue
		}
		seen[it.Key+"\x00"+it.Pos] = true
		av, err := attributevalue.MarshalMap(it)
		if err != nil {
			fail(i, err)
			continue
		}
		items = append(items, av)
		index = append(index, i)
	}
	for _, f := range batchwrite.Put(ctx, l.DB, l.Table, items, []string{AttrKey, AttrPos}, l.MaxAttempts) {
		fail(index[f.Index], f.Err)
	}
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	if firstFailed >= 0 {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: in.Records[firstFailed].Kinesis.SequenceNumber})
	}
	return resp, nil
}

// item makes the record's item; keep is false for events of other types.
func (l *Listener) item(rec events.KinesisEventRecord) (Item, bool, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(rec.Kinesis.Data, &fields); err != nil {
		return Item{}, false, fmt.Errorf("data is not a JSON object event: %w", err)
	}
	var typ, id string
	if err := json.Unmarshal(fields["type"], &typ); err != nil || typ == "" {
		return Item{}, false, fmt.Errorf("event has no type")
	}
	if !l.wants(typ) {
		return Item{}, false, nil
	}
	if err := json.Unmarshal(fields["id"], &id); err != nil || id == "" {
		return Item{}, false, fmt.Errorf("event of type %s has no id", typ)
	}
	keyField := l.KeyField
	if keyField == "" {
		keyField = "partitionKey"
	}
	key := scalar(fields[keyField])
	if key == "" {
		return Item{}, false, fmt.Errorf("event %s has no %s", id, keyField)
	}
	var ts int64
	if err := json.Unmarshal(fields["timestamp"], &ts); err != nil || ts == 0 {
		ts = lake.ArrivalMillis(rec.Kinesis.ApproximateArrivalTimestamp)
	}
	days := l.RetentionDays
	if days == 0 {
		days = DefaultRetentionDays
	}
	var compact bytes.Buffer
	json.Compact(&compact, rec.Kinesis.Data)
	return Item{
		Key: key,
		// Time order first, then the stream position: unique within the key even for events of one millisecond,
		// and in order across shards (a correlation key can gather several partition keys).
		Pos:  fmt.Sprintf("%013d#%s", ts, eventstore.Position(rec.Kinesis.SequenceNumber, 0)),
		TTL:  time.UnixMilli(ts).Add(time.Duration(days) * 24 * time.Hour).Unix(),
		Type: typ, ID: id, TS: ts, Event: compact.String(),
	}, true, nil
}

func (l *Listener) wants(typ string) bool {
	if len(l.Types) == 0 {
		return true
	}
	for _, p := range l.Types {
		if ok, _ := path.Match(p, typ); ok || p == typ {
			return true
		}
	}
	return false
}

// scalar returns a JSON string or number as a key; anything else gives "".
func scalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
