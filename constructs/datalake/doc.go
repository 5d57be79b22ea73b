// Package datalake provides the data lake: Amazon Data Firehose reads the event stream and writes every event into
// an S3 bucket as one lake line (see package lake), gzip-compressed, under time-partitioned keys
// <prefix>YYYY/MM/DD/HH/, so a replay can rebuild each record (docs/design.md, part 3).
//
// Records whose data is not a JSON object are never dropped: the Go transformation marks them ProcessingFailed and
// Firehose writes them, as they came, under <errorPrefix>processing-failed/YYYY/MM/DD/HH/.
//
// Firehose is a shared-throughput reader of the stream; the lake registers it with [eventstream.RegisterSharedReader].
//
// Firehose quotas: https://docs.aws.amazon.com/firehose/latest/dev/limits.html
package datalake
