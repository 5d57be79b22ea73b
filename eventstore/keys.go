package eventstore

import (
	"fmt"
	"hash/fnv"
	"time"
)

// DefaultShards is the number of write shards of the byTime index per hour.
const DefaultShards = 16

// Attribute and index names.
const (
	AttrPK         = "pk"
	AttrSK         = "sk"
	AttrTimePK     = "tpk"
	AttrTimeSK     = "tsk"
	TimeIndex      = "byTime"
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
