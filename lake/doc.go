// Package lake defines the data lake's line format and the code that writes and reads it.
//
// Every event that passes through the Kinesis event stream is stored in the S3 data lake as one JSON line:
//
//	{"kinesisRecordMetadata":{"sequenceNumber":"…","subsequenceNumber":0,"partitionKey":"…","shardId":"…","approximateArrivalTimestamp":1700000000000},"event":{…}}
//
// The metadata is what a replay needs to rebuild the record exactly as a Kinesis-subscribed Lambda function receives
// it (see [Line.KinesisRecord]). The event is the producer's JSON object, compacted onto one line.
//
// [Transform] is the Amazon Data Firehose transformation that produces these lines; [Decoder] reads them back from an
// object of any size with bounded memory, accepting every form the contract allows: wrapped lines, bare events, objects
// concatenated without a newline, gzip or plain objects and blank lines. A malformed line is reported as a
// [*MalformedLineError] and decoding goes on.
//
// Firehose data transformation: https://docs.aws.amazon.com/firehose/latest/dev/data-transformation.html
// Kinesis event for Lambda: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
package lake
