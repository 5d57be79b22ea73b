package contract

import "strconv"

// The environment of the event store writer (lambdas/eventstorewriter), set by constructs/eventstore.
const (
	// EventStoreTable is the event store table's name.
	EventStoreTable = "TABLE"
	// EventStorePayloadBucket is the bucket that keeps events too large for an item.
	EventStorePayloadBucket = "PAYLOAD_BUCKET"
	// EventStoreShards is the number of write shards of the time index per hour, from [MinShards] to [MaxShards].
	EventStoreShards = "SHARDS"
)

// Limits and default of the event store's write shards.
const (
	// MinShards is the fewest write shards of the time index per hour.
	MinShards = 1
	// MaxShards is the most write shards of the time index per hour.
	MaxShards = 256
	// DefaultShards is the number of write shards of the time index per hour when none is configured.
	DefaultShards = 16
)

// The event store table's key schema, which constructs/eventstore creates and package eventstore reads and writes.
const (
	// EventStoreAttrPK is the table's partition key.
	EventStoreAttrPK = "pk"
	// EventStoreAttrSK is the table's sort key.
	EventStoreAttrSK = "sk"
	// EventStoreTimeIndex is the global secondary index by time.
	EventStoreTimeIndex = "byTime"
	// EventStoreAttrTimePK is the time index's partition key.
	EventStoreAttrTimePK = "tpk"
	// EventStoreAttrTimeSK is the time index's sort key.
	EventStoreAttrTimeSK = "tsk"
)

// EventStore is the event store writer's configuration.
type EventStore struct {
	// Table is the event store table's name. Required.
	Table string
	// PayloadBucket is the name of the bucket for oversized events. Required.
	PayloadBucket string
	// Shards is the number of write shards of the time index per hour ([MinShards] to [MaxShards]). Required: a
	// writer and the readers of its table must agree on it.
	Shards int
}

// Env returns the variables that configure the writer with c.
func (c EventStore) Env() map[string]string {
	return map[string]string{
		EventStoreTable:         c.Table,
		EventStorePayloadBucket: c.PayloadBucket,
		EventStoreShards:        strconv.Itoa(c.Shards),
	}
}

// LoadEventStore reads and checks the writer's variables.
func LoadEventStore(lookup Lookup) (EventStore, error) {
	r := &reader{lookup: lookup}
	c := EventStore{
		Table:         r.str(EventStoreTable, true),
		PayloadBucket: r.str(EventStorePayloadBucket, true),
		Shards:        r.whole(EventStoreShards, MinShards, MaxShards, true, 0),
	}
	return c, r.err()
}
