package lake

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Metadata is the Kinesis metadata of a stream record, as Firehose hands it to a transformation and as it is stored in
// each lake line.
type Metadata struct {
	// SequenceNumber is the record's sequence number within its shard.
	SequenceNumber string `json:"sequenceNumber"`
	// SubsequenceNumber orders the user records of one aggregated (KPL) record; 0 otherwise.
	SubsequenceNumber int64 `json:"subsequenceNumber"`
	// PartitionKey is the key the producer wrote the record with.
	PartitionKey string `json:"partitionKey"`
	// ShardID is the shard the record was read from, such as "shardId-000000000000".
	ShardID string `json:"shardId"`
	// ApproximateArrivalTimestamp is when the stream accepted the record, in epoch milliseconds.
	ApproximateArrivalTimestamp int64 `json:"approximateArrivalTimestamp"`
}

// Line is one entry of the data lake: an event and the Kinesis metadata of the record that carried it.
type Line struct {
	// Metadata is nil for a bare event line, which carries no Kinesis metadata.
	Metadata *Metadata `json:"kinesisRecordMetadata,omitempty"`
	// Event is the event's JSON object, compact.
	Event json.RawMessage `json:"event"`
}

// Header holds the fields every event carries by contract. Any of them may be missing from a producer's event;
// Header reports what is there.
type Header struct {
	// ID is the event's unique id.
	ID string `json:"id"`
	// Type names what happened, such as "thing-created".
	Type string `json:"type"`
	// Timestamp is when it happened, in epoch milliseconds.
	Timestamp int64 `json:"timestamp"`
	// PartitionKey is the entity the event is about; producers write the event with it.
	PartitionKey string `json:"partitionKey"`
}

// Header decodes the contract fields of the line's event.
func (l Line) Header() (Header, error) {
	var h Header
	if err := json.Unmarshal(l.Event, &h); err != nil {
		return Header{}, fmt.Errorf("event header: %w", err)
	}
	return h, nil
}

// AppendLine appends the lake line for event and its metadata to dst, newline included, and returns the extended
// buffer. The event must be one JSON object; it is compacted onto a single line, with its strings kept byte for byte
// (no HTML escaping is added).
func AppendLine(dst []byte, md Metadata, event []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, event); err != nil {
		return dst, fmt.Errorf("event is not valid JSON: %w", err)
	}
	ev := compact.Bytes()
	if len(ev) == 0 || ev[0] != '{' {
		return dst, fmt.Errorf("event must be a JSON object, got %s", describe(ev))
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(Line{Metadata: &md, Event: ev}); err != nil { // Encode appends the newline.
		return dst, fmt.Errorf("encode lake line: %w", err)
	}
	return buf.Bytes(), nil
}

// describe names the JSON kind of a value for error messages, with no more than a short prefix of the value itself.
func describe(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	kind := "a JSON value"
	switch v[0] {
	case '[':
		kind = "a JSON array"
	case '"':
		kind = "a JSON string"
	case 't', 'f':
		kind = "a JSON boolean"
	case 'n':
		kind = "JSON null"
	default:
		kind = "a JSON number"
	}
	const max = 40
	if len(v) > max {
		return fmt.Sprintf("%s (%s…)", kind, v[:max])
	}
	return fmt.Sprintf("%s (%s)", kind, v)
}
