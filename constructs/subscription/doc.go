// Package subscription subscribes Lambda functions to the event stream, by priority (docs/design.md, part 2).
//
// Every Kinesis shard serves 5 GetRecords calls per second, shared by all its standard readers: many subscribers
// starve each other. A subscription has a priority tier that maps onto what Lambda and Kinesis offer today:
//
//   - Realtime: a dedicated enhanced fan-out consumer (2 MB/s per shard, pushed), small batches, no batching window.
//   - Standard: shared throughput, short batching window (1 s), batches of 100.
//   - Bulk: shared throughput, long batching window (60 s, up to 300 s), batches of 1,000: what the seed article did
//     by sleeping in low-priority functions, done natively.
//
// Defaults on every tier: bisect on error, ReportBatchItemFailures, 10 retries, a maximum record age no longer than
// the stream's retention, failed batches to an S3 bucket (it keeps the failed records themselves; an SQS queue or SNS
// topic gets only their metadata, to be read from the stream before it forgets them), EventCount metrics, and alarms
// on the function's IteratorAge and Errors and on records sent to the failure destination or dropped.
//
// Mappings are made by the Custom::EventlakeSubscription resource (one mapper function per stack, lambdas/mapper),
// which retries the LimitExceededException that CloudFormation's own AWS::Lambda::EventSourceMapping fails whole
// stacks with when many mappings hit one stream.
package subscription
