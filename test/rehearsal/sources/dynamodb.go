package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	dstypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// DynamoDB emulates a Lambda event source mapping of a DynamoDB table stream (such as a micro event store's trigger):
// it reads the stream's shards from moto's DynamoDB Streams (DescribeStream, GetShardIterator, GetRecords) and invokes
// the function with the events.DynamoDBEvent Lambda sends.
//
// What it emulates:
//   - the event: Records with eventID, eventName (INSERT, MODIFY, REMOVE), eventVersion, eventSource aws:dynamodb,
//     eventSourceARN (the stream's ARN), awsRegion, userIdentity (for TTL deletes) and dynamodb{Keys, NewImage,
//     OldImage in the attribute-value JSON Lambda uses ({"S":…}, {"N":…}, {"M":…}, …), SequenceNumber, SizeBytes,
//     StreamViewType, ApproximateCreationDateTime (epoch seconds, rounded down to the second)};
//   - filter criteria (see Filter) matched against that record as Lambda hands it over, such as {"eventName":
//     ["INSERT"]};
//   - batches, the starting position (TRIM_HORIZON or LATEST), ReportBatchItemFailures (itemIdentifier is the
//     dynamodb.SequenceNumber), BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds and the
//     on-failure destination exactly as the Kinesis driver does (see Kinesis), the invocation record carrying
//     DDBStreamBatchInfo.
//
// What it does not emulate: as for Kinesis (no batching window, parallelization factor 1, no tumbling windows, no
// backoff, no throttling, no metrics). moto gives every record awsRegion us-east-1 and its own SizeBytes estimate:
// the driver sets awsRegion from the stream's ARN and passes SizeBytes on. moto keeps one shard per table, so shard
// lineage is never exercised.
//
// Drain is not safe for concurrent use; Stats and Failures may be called at any time, Checkpoints between Drains.
type DynamoDB struct {
	e        *engine
	client   *dynamodbstreams.Client
	region   string
	startPos string
	latest   map[string]string
}

// NewDynamoDB makes a DynamoDB Streams driver for a mapping of settings to fn, reading the table stream from cfg's
// endpoint (moto). For StartingPosition LATEST it takes each shard's position now.
func NewDynamoDB(ctx context.Context, cfg aws.Config, s StreamSettings, fn Invoker, opts ...Option) (*DynamoDB, error) {
	o := newOptions(opts)
	e, err := newEngine("DynamoDB", cfg, s, fn, o)
	if err != nil {
		return nil, err
	}
	a, err := arn.Parse(s.EventSourceARN)
	if err != nil || a.Service != "dynamodb" || !strings.Contains(a.Resource, "/stream/") {
		return nil, fmt.Errorf("DynamoDB driver: %q is not the ARN of a DynamoDB table stream", s.EventSourceARN)
	}
	d := &DynamoDB{e: e, client: dynamodbstreams.NewFromConfig(cfg), region: a.Region, startPos: s.StartingPosition, latest: map[string]string{}}
	if d.startPos == "" {
		d.startPos = "TRIM_HORIZON"
	}
	if d.startPos != "TRIM_HORIZON" && d.startPos != "LATEST" {
		return nil, fmt.Errorf("DynamoDB driver: StartingPosition %q must be TRIM_HORIZON or LATEST", d.startPos)
	}
	e.streamARN, e.batchInfoKey, e.src = s.EventSourceARN, "DDBStreamBatchInfo", d
	shards, err := d.listShards(ctx)
	if err != nil {
		return nil, err
	}
	if d.startPos == "LATEST" {
		for _, sh := range shards {
			out, err := d.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(s.EventSourceARN), ShardId: aws.String(sh.id), ShardIteratorType: dstypes.ShardIteratorTypeLatest,
			})
			if err != nil {
				return nil, fmt.Errorf("DynamoDB driver: GetShardIterator LATEST %s: %w", sh.id, err)
			}
			d.latest[sh.id] = aws.ToString(out.ShardIterator)
		}
	}
	return d, nil
}

// Drain processes the table stream until it holds nothing new (see Kinesis.Drain).
func (d *DynamoDB) Drain(ctx context.Context) error { return d.e.drain(ctx) }

// Stats returns what the driver has done so far.
func (d *DynamoDB) Stats() Stats { return d.e.snapshot() }

// Failures returns the invocation records of the batches given up so far, in order.
func (d *DynamoDB) Failures() []FailureRecord { return d.e.failureRecords() }

// Checkpoints returns each shard's checkpoint: the sequence number of the last record processed or given up.
func (d *DynamoDB) Checkpoints() map[string]string { return d.e.checkpoints() }

func (d *DynamoDB) listShards(ctx context.Context) ([]shardInfo, error) {
	var out []shardInfo
	in := &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.e.streamARN)}
	for {
		page, err := d.client.DescribeStream(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("DynamoDB driver: DescribeStream %s: %w", d.e.streamARN, err)
		}
		desc := page.StreamDescription
		for _, sh := range desc.Shards {
			info := shardInfo{id: aws.ToString(sh.ShardId)}
			if p := aws.ToString(sh.ParentShardId); p != "" {
				info.parents = []string{p}
			}
			out = append(out, info)
		}
		if desc.LastEvaluatedShardId == nil {
			return out, nil
		}
		in = &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.e.streamARN), ExclusiveStartShardId: desc.LastEvaluatedShardId}
	}
}

func (d *DynamoDB) read(ctx context.Context, shardID, after string) ([]streamRecord, error) {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(d.e.streamARN), ShardId: &shardID}
	var iter *string
	switch {
	case after != "":
		in.ShardIteratorType, in.SequenceNumber = dstypes.ShardIteratorTypeAfterSequenceNumber, &after
	case d.startPos == "LATEST" && d.latest[shardID] != "":
		iter = aws.String(d.latest[shardID])
	default:
		in.ShardIteratorType = dstypes.ShardIteratorTypeTrimHorizon
	}
	if iter == nil {
		out, err := d.client.GetShardIterator(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("DynamoDB driver: GetShardIterator %s: %w", shardID, err)
		}
		iter = out.ShardIterator
	}
	var recs []streamRecord
	for iter != nil {
		out, err := d.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(1000)})
		if err != nil {
			return nil, fmt.Errorf("DynamoDB driver: GetRecords %s: %w", shardID, err)
		}
		for _, r := range out.Records {
			rec, err := d.record(r)
			if err != nil {
				return nil, err
			}
			recs = append(recs, rec)
		}
		if len(out.Records) == 0 {
			break
		}
		iter = out.NextShardIterator
	}
	return recs, nil
}

// record builds the record Lambda hands the function for a DynamoDB stream record.
func (d *DynamoDB) record(r dstypes.Record) (streamRecord, error) {
	sr := r.Dynamodb
	if sr == nil {
		return streamRecord{}, fmt.Errorf("DynamoDB driver: stream record %s has no dynamodb", aws.ToString(r.EventID))
	}
	created := aws.ToTime(sr.ApproximateCreationDateTime).Truncate(time.Second).UTC()
	ev := events.DynamoDBEventRecord{
		AWSRegion:      d.region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: d.e.streamARN,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: created},
			SequenceNumber:              aws.ToString(sr.SequenceNumber),
			SizeBytes:                   aws.ToInt64(sr.SizeBytes),
			StreamViewType:              string(sr.StreamViewType),
		},
	}
	if ev.EventSource == "" {
		ev.EventSource = "aws:dynamodb"
	}
	if r.UserIdentity != nil {
		ev.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	var err error
	if ev.Change.Keys, err = ddbItem(sr.Keys); err != nil {
		return streamRecord{}, err
	}
	if ev.Change.NewImage, err = ddbItem(sr.NewImage); err != nil {
		return streamRecord{}, err
	}
	if ev.Change.OldImage, err = ddbItem(sr.OldImage); err != nil {
		return streamRecord{}, err
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return streamRecord{}, err
	}
	doc, _ := decodeJSON(raw)
	return streamRecord{seq: ev.Change.SequenceNumber, arrival: created, raw: raw, doc: doc}, nil
}

func ddbItem(item map[string]dstypes.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if item == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		av, err := ddbValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func ddbValue(v dstypes.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *dstypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *dstypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *dstypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			av, err := ddbValue(x)
			if err != nil {
				return events.DynamoDBAttributeValue{}, err
			}
			l[i] = av
		}
		return events.NewListAttribute(l), nil
	case *dstypes.AttributeValueMemberM:
		m, err := ddbItem(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unknown attribute value %T", v)
}
