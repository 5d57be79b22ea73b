package eventstore

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/eventlake/eventlake/contract"
)

// DefaultShards is the number of write shards of the byTime index per hour.
const DefaultShards = contract.DefaultShards

// Attribute and index names. The table's keys and index are package contract's, which constructs/eventstore
// creates the table with.
const (
	// AttrPK is the table's partition key.
	AttrPK = contract.EventStoreAttrPK
	// AttrSK is the table's sort key.
	AttrSK = contract.EventStoreAttrSK
	// AttrTimePK is the time index's partition key.
	AttrTimePK = contract.EventStoreAttrTimePK
	// AttrTimeSK is the time index's sort key.
	AttrTimeSK = contract.EventStoreAttrTimeSK
	// TimeIndex is the global secondary index by time.
	TimeIndex      = contract.EventStoreTimeIndex
	attrType       = "type"
	attrID         = "id"
	attrTimestamp  = "ts"
	attrArrival    = "arrival"
	attrShard      = "shardId"
	attrSequence   = "seq"
	attrSubseq     = "subseq"
	attrEvent      = "event"
	attrPayloadRef = "payloadRef"
	attrSize       = "size"
)

// Position is a record's place in the stream as a sortable string: the sequence number prefixed with its length (so
// string order is numeric order), then the subsequence number.
func Position(sequenceNumber string, subsequence int64) string {
	return fmt.Sprintf("%03d%s#%010d", len(sequenceNumber), sequenceNumber, subsequence)
}

// Shard is the byTime write shard of a partition key.
func Shard(partitionKey string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(partitionKey))
	return int(h.Sum32() % uint32(shards))
}

// TimePK is the byTime partition of an hour and a write shard.
func TimePK(hour time.Time, shard int) string {
	return fmt.Sprintf("%s#%02d", hour.UTC().Format("2006-01-02T15"), shard)
}

// TimeSK orders an event within its byTime partition: arrival time, then stream position.
func TimeSK(arrival time.Time, position string) string {
	return fmt.Sprintf("%013d#%s", arrival.UnixMilli(), position)
}
