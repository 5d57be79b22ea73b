package eventstore

import (
	"encoding/json"
	"time"
)

// Event is one stored event.
type Event struct {
	// PartitionKey is the entity: the record's partition key.
	PartitionKey string
	// Position is the record's place in the stream (see [Position]).
	Position string
	// ID is the event's id, when it has one.
	ID string
	// Type is the event's type, when it has one.
	Type string
	// Timestamp is the event's own time in epoch milliseconds, when it has one.
	Timestamp int64
	// Arrival is when the stream accepted the record.
	Arrival time.Time
	// ShardID is the Kinesis shard the record was read from.
	ShardID string
	// SequenceNumber is the record's sequence number in its shard.
	SequenceNumber string
	// Subsequence orders the user records of one aggregated record.
	Subsequence int64
	// Data is the event as the producer wrote it.
	Data json.RawMessage
}

// item is an event as stored.
type item struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	TPK        string `dynamodbav:"tpk"`
	TSK        string `dynamodbav:"tsk"`
	Type       string `dynamodbav:"type,omitempty"`
	ID         string `dynamodbav:"id,omitempty"`
	TS         int64  `dynamodbav:"ts"`
	Arrival    int64  `dynamodbav:"arrival"`
	Shard      string `dynamodbav:"shardId"`
	Seq        string `dynamodbav:"seq"`
	Subseq     int64  `dynamodbav:"subseq"`
	Event      string `dynamodbav:"event,omitempty"`
	PayloadRef string `dynamodbav:"payloadRef,omitempty"`
	Size       int    `dynamodbav:"size"`
}

func (it item) event(data []byte) Event {
	return Event{
		PartitionKey: it.PK, Position: it.SK, ID: it.ID, Type: it.Type, Timestamp: it.TS,
		Arrival: time.UnixMilli(it.Arrival).UTC(), ShardID: it.Shard, SequenceNumber: it.Seq, Subsequence: it.Subseq,
		Data: data,
	}
}
