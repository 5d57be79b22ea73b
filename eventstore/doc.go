// Package eventstore keeps every event of the stream in DynamoDB, beyond the stream's retention, so a new service or a
// replay can start from any point (docs/design.md, part 5).
//
// # Key design
//
// The table's key is pk = the event's partition key (the entity) and sk = its position in the stream: the Kinesis
// sequence number prefixed with its length, so that string order is numeric order, then the subsequence number.
// That serves:
//
//  1. All events of one entity in stream order: one Query on pk, consistent, ascending ([Reader.Entity]).
//  2. All events in a time range, in parallel, in order within each entity: the global secondary index byTime has
//     tpk = the arrival hour and a write shard (hash of the partition key mod Shards) and tsk = the arrival time in
//     milliseconds then the stream position. A range is read as Shards parallel queries per hour; every event of one
//     entity falls in the same write shard, in order ([Reader.TimeRange]).
//  3. A burst of simultaneous events spreads: over as many table partitions as there are entities, and over Shards
//     index partitions per hour even when they all concern one entity hour — no hot key.
//  4. The same stream record written twice is stored once: every key is derived from the record itself.
//
// An event too large for a DynamoDB item (400 KB) is stored by reference: its payload goes to S3 under a key derived
// from its position, and the item holds the reference. Nothing blocks the shard, nothing is dropped.
package eventstore
