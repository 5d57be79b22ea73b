package lake

import (
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Source describes the stream a replayed record claims to come from.
type Source struct {
	// StreamARN is the original stream's ARN, set as the record's eventSourceARN. Empty when unknown.
	StreamARN string
	// Region is the record's awsRegion. Empty when unknown.
	Region string
}

// KinesisRecord rebuilds the record a Kinesis-subscribed Lambda function receives for this line, so that the target of
// a replay sees what it saw from the live stream. A bare event line has no Kinesis metadata: its partition key and
// arrival time are taken from the event's own partitionKey and timestamp fields.
func (l Line) KinesisRecord(src Source) events.KinesisEventRecord {
	md := Metadata{}
	if l.Metadata != nil {
		md = *l.Metadata
	} else if h, err := l.Header(); err == nil {
		md.PartitionKey = h.PartitionKey
		md.ApproximateArrivalTimestamp = h.Timestamp
	}
	eventID := md.ShardID + ":" + md.SequenceNumber
	return events.KinesisEventRecord{
		AwsRegion:      src.Region,
		EventID:        eventID,
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: src.StreamARN,
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.UnixMilli(md.ApproximateArrivalTimestamp)},
			Data:                        []byte(l.Event),
			PartitionKey:                md.PartitionKey,
			SequenceNumber:              md.SequenceNumber,
			KinesisSchemaVersion:        "1.0",
		},
	}
}
