// Package eventstream provides the event stream: the Kinesis data stream that is the system's single source of truth
// (see docs/design.md, part 1), with secure defaults, synth-time validation and alarms that fire.
//
// It also keeps the list of a stream's shared-throughput readers ([RegisterSharedReader], [SharedReaders]): every
// standard (non-enhanced-fan-out) reader of a shard shares its 5 GetRecords calls per second, so subscriptions count
// them to warn before readers starve each other.
//
// Kinesis Data Streams quotas: https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
package eventstream
