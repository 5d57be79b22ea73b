package lake

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Transform is the Firehose data transformation that turns the records of a Kinesis source into lake lines.
//
// Every record whose data is a JSON object comes back Ok, as one lake line carrying its Kinesis metadata. Any other
// record comes back ProcessingFailed with its original data, so Firehose writes it under the delivery stream's error
// prefix (processing-failed/) instead of dropping it; the others in the batch are unaffected.
func Transform(ctx context.Context, logger *slog.Logger, in events.KinesisFirehoseEvent) events.KinesisFirehoseResponse {
	out := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, 0, len(in.Records))}
	failed := 0
	for _, rec := range in.Records {
		md := rec.KinesisFirehoseRecordMetadata
		arrival := md.ApproximateArrivalTimestamp.Time
		if arrival.IsZero() {
			arrival = rec.ApproximateArrivalTimestamp.Time
		}
		line, err := AppendLine(nil, Metadata{
			SequenceNumber:              md.SequenceNumber,
			SubsequenceNumber:           md.SubsequenceNumber,
			PartitionKey:                md.PartitionKey,
			ShardID:                     md.ShardID,
			ApproximateArrivalTimestamp: arrival.UnixMilli(),
		}, rec.Data)
		if err != nil {
			failed++
			logger.WarnContext(ctx, "record sent to the processing-failed output",
				"recordId", rec.RecordID, "shardId", md.ShardID, "sequenceNumber", md.SequenceNumber,
				"partitionKey", md.PartitionKey, "bytes", len(rec.Data), "error", err)
			out.Records = append(out.Records, events.KinesisFirehoseResponseRecord{
				RecordID: rec.RecordID, Result: events.KinesisFirehoseTransformedStateProcessingFailed, Data: rec.Data,
			})
			continue
		}
		out.Records = append(out.Records, events.KinesisFirehoseResponseRecord{
			RecordID: rec.RecordID, Result: events.KinesisFirehoseTransformedStateOk, Data: line,
		})
	}
	logger.InfoContext(ctx, "transformed batch", "records", len(in.Records), "failed", failed,
		"deliveryStream", in.DeliveryStreamArn)
	return out
}
