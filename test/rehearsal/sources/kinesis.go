package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Kinesis emulates a Lambda event source mapping of a Kinesis data stream: it reads every shard of the stream from
// moto's Kinesis (ListShards, GetShardIterator, GetRecords) and invokes the function with the events.KinesisEvent
// Lambda sends, handling the response as Lambda does.
//
// What it emulates:
//   - the event: Records of eventSource aws:kinesis, eventName aws:kinesis:record, eventVersion 1.0, eventID
//     "<shardId>:<sequenceNumber>", eventSourceARN (the stream's ARN), awsRegion, invokeIdentityArn (WithRoleARN)
//     and kinesis{kinesisSchemaVersion 1.0, partitionKey, sequenceNumber, data (base64),
//     approximateArrivalTimestamp (epoch seconds with three decimals), encryptionType when the record has one}, in
//     the field order of AWS's example event;
//   - batches of up to BatchSize records of one shard, cut before Lambda's 6 MB payload limit;
//   - the starting position: TRIM_HORIZON, LATEST (taken when NewKinesis runs, standing for the mapping's creation)
//     or AT_TIMESTAMP;
//   - filter criteria on data (see Filter): records whose data is not JSON, or that no pattern matches, are dropped
//     before batching, and checkpointed past;
//   - ReportBatchItemFailures: the checkpoint moves to just before the lowest failed sequence number and the
//     records from it are retried; an empty, null or unknown itemIdentifier fails the whole batch. A report that
//     fails the batch's first record is a whole-batch failure;
//   - BisectBatchOnFunctionError: a failed batch is split in two halves, each processed in turn; with
//     ReportBatchItemFailures a partial failure splits the batch at the failed record. Splits do not consume the
//     retry quota;
//   - MaximumRetryAttempts (-1 infinite): records whose invocation failed more than that many retries are given up
//     (condition RetryAttemptsExhausted); a partial failure without bisection counts as a failed attempt of the
//     records from the failed one;
//   - MaximumRecordAgeInSeconds (-1 infinite): records older than that when they would be invoked are given up
//     without invocation (condition RecordAgeExceeded). WithClock moves time;
//   - the on-failure destination: the invocation record (requestContext with the last failed invocation's request
//     id, functionArn, condition and approximateInvokeCount; responseContext when the records were invoked;
//     version; timestamp) with KinesisBatchInfo, sent to moto: SQS SendMessage, SNS Publish, or an S3 object
//     aws/lambda/<mapping UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid> that adds the payload,
//     {"Records":[…]}. Without a destination the records are dropped; Failures lists them either way;
//   - order: the records of a shard are handed over in sequence order, one batch at a time; shards run
//     concurrently; a child shard after its parents.
//
// What it does not emulate: the batching window is not waited for (a batch holds what the shard has when read);
// ParallelizationFactor is treated as 1; enhanced fan-out consumers are read with GetRecords like a shared-throughput
// stream (SubscribeToShard is not used; the records are the same); tumbling windows, Kinesis aggregation
// (de-aggregation of KPL records), iterator expiry, throttling, GetRecords limits, metrics and the mapping's state
// are not emulated; retries are immediate (no backoff); a batch with infinite retries and no record age loops until
// the context ends. The request id of an invocation that is not a *lambdart.FunctionError or *lambdart.RuntimeError
// is not known (a new UUID stands in). The eventSourceARN of a consumer's records is the stream's ARN
// (WithEventSourceARN changes it): AWS's documentation shows no event of a consumer mapping.
//
// Drain is not safe for concurrent use; Stats and Failures may be called at any time, Checkpoints between Drains.
type Kinesis struct {
	e        *engine
	client   *kinesis.Client
	region   string
	srcARN   string // eventSourceARN of the records
	startPos string
	latest   map[string]string // shard id → iterator taken at creation, for LATEST
	role     string
}

// NewKinesis makes a Kinesis driver for a mapping of settings to fn, reading the stream from cfg's endpoint (moto).
// It checks that the stream exists and, for StartingPosition LATEST, takes each shard's position now.
func NewKinesis(ctx context.Context, cfg aws.Config, s StreamSettings, fn Invoker, opts ...Option) (*Kinesis, error) {
	o := newOptions(opts)
	e, err := newEngine("Kinesis", cfg, s, fn, o)
	if err != nil {
		return nil, err
	}
	streamARN, err := kinesisStreamARN(s.EventSourceARN)
	if err != nil {
		return nil, err
	}
	for _, key := range e.filter.Keys() {
		if key != "data" {
			return nil, fmt.Errorf("Kinesis driver: a filter on %q: Kinesis event source mappings filter on data only", key)
		}
	}
	a, _ := arn.Parse(streamARN)
	k := &Kinesis{e: e, client: kinesis.NewFromConfig(cfg), region: a.Region, srcARN: streamARN, latest: map[string]string{}, role: o.roleARN}
	if o.eventSourceARN != "" {
		k.srcARN = o.eventSourceARN
	}
	k.startPos = s.StartingPosition
	if k.startPos == "" {
		k.startPos = "TRIM_HORIZON"
	}
	e.streamARN, e.batchInfoKey, e.src = streamARN, "KinesisBatchInfo", k
	if _, err := k.client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: &streamARN}); err != nil {
		return nil, fmt.Errorf("Kinesis driver: stream %s: %w", streamARN, err)
	}
	if k.startPos == "LATEST" {
		shards, err := k.listShards(ctx)
		if err != nil {
			return nil, err
		}
		for _, sh := range shards {
			out, err := k.client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
				StreamARN: &streamARN, ShardId: aws.String(sh.id), ShardIteratorType: ktypes.ShardIteratorTypeLatest,
			})
			if err != nil {
				return nil, fmt.Errorf("Kinesis driver: GetShardIterator LATEST %s: %w", sh.id, err)
			}
			k.latest[sh.id] = aws.ToString(out.ShardIterator)
		}
	}
	return k, nil
}

// kinesisStreamARN returns the stream ARN of a stream or stream consumer ARN
// (arn:aws:kinesis:region:account:stream/name/consumer/consumer-name:timestamp).
func kinesisStreamARN(s string) (string, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") {
		return "", fmt.Errorf("Kinesis driver: %q is not the ARN of a Kinesis stream or stream consumer", s)
	}
	if i := strings.Index(a.Resource, "/consumer/"); i >= 0 {
		a.Resource = a.Resource[:i]
	}
	return a.String(), nil
}

// StreamARN is the ARN of the stream the driver reads.
func (k *Kinesis) StreamARN() string { return k.e.streamARN }

// Drain processes the stream until it holds nothing new: every shard is read from its checkpoint and its records
// handed to the function (with the retries, splits and give-ups the settings call for), again and again until a
// pass over all shards reads nothing. It returns the first error of moto or of an on-failure destination, or the
// context's.
func (k *Kinesis) Drain(ctx context.Context) error { return k.e.drain(ctx) }

// Stats returns what the driver has done so far.
func (k *Kinesis) Stats() Stats { return k.e.snapshot() }

// Failures returns the invocation records of the batches given up so far, in order.
func (k *Kinesis) Failures() []FailureRecord { return k.e.failureRecords() }

// Checkpoints returns each shard's checkpoint: the sequence number of the last record processed or given up.
func (k *Kinesis) Checkpoints() map[string]string { return k.e.checkpoints() }

func (e *engine) checkpoints() map[string]string {
	out := map[string]string{}
	for id, sh := range e.shards {
		out[id] = sh.checkpoint
	}
	return out
}

func (k *Kinesis) listShards(ctx context.Context) ([]shardInfo, error) {
	var out []shardInfo
	in := &kinesis.ListShardsInput{StreamARN: aws.String(k.e.streamARN)}
	for {
		page, err := k.client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("Kinesis driver: ListShards: %w", err)
		}
		for _, sh := range page.Shards {
			info := shardInfo{id: aws.ToString(sh.ShardId)}
			for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
				if p != nil && *p != "" {
					info.parents = append(info.parents, *p)
				}
			}
			out = append(out, info)
		}
		if page.NextToken == nil {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

func (k *Kinesis) read(ctx context.Context, shardID, after string) ([]streamRecord, error) {
	in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(k.e.streamARN), ShardId: &shardID}
	var iter *string
	switch {
	case after != "":
		in.ShardIteratorType, in.StartingSequenceNumber = ktypes.ShardIteratorTypeAfterSequenceNumber, &after
	case k.startPos == "LATEST" && k.latest[shardID] != "":
		iter = aws.String(k.latest[shardID])
	case k.startPos == "AT_TIMESTAMP":
		ts := k.e.s.StartingPositionTimestamp
		in.ShardIteratorType, in.Timestamp = ktypes.ShardIteratorTypeAtTimestamp, &ts
	default:
		// TRIM_HORIZON, and a shard that appeared after a LATEST mapping was made (a child shard).
		in.ShardIteratorType = ktypes.ShardIteratorTypeTrimHorizon
	}
	if iter == nil {
		out, err := k.client.GetShardIterator(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("Kinesis driver: GetShardIterator %s: %w", shardID, err)
		}
		iter = out.ShardIterator
	}
	var recs []streamRecord
	for iter != nil {
		out, err := k.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(k.e.streamARN)})
		if err != nil {
			return nil, fmt.Errorf("Kinesis driver: GetRecords %s: %w", shardID, err)
		}
		for _, r := range out.Records {
			rec, err := k.record(shardID, r)
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

// kinesisEventRecord is a record of the events.KinesisEvent, with the fields in the order of AWS's example event and
// the arrival time as Lambda writes it: float seconds with exactly three decimals (aws-lambda-go's SecondsEpochTime
// writes float64 artefacts such as 1700000000.1260002).
type kinesisEventRecord struct {
	Kinesis           kinesisRecordData `json:"kinesis"`
	EventSource       string            `json:"eventSource"`
	EventVersion      string            `json:"eventVersion"`
	EventID           string            `json:"eventID"`
	EventName         string            `json:"eventName"`
	InvokeIdentityARN string            `json:"invokeIdentityArn"`
	AWSRegion         string            `json:"awsRegion"`
	EventSourceARN    string            `json:"eventSourceARN"`
}

type kinesisRecordData struct {
	KinesisSchemaVersion        string      `json:"kinesisSchemaVersion"`
	PartitionKey                string      `json:"partitionKey"`
	SequenceNumber              string      `json:"sequenceNumber"`
	Data                        []byte      `json:"data"`
	ApproximateArrivalTimestamp json.Number `json:"approximateArrivalTimestamp"`
	EncryptionType              string      `json:"encryptionType,omitempty"`
}

// secondsMillis writes t as epoch seconds with three decimals.
func secondsMillis(t time.Time) json.Number {
	ms := t.UnixMilli()
	return json.Number(fmt.Sprintf("%d.%03d", ms/1000, ms%1000))
}

// record builds the record Lambda hands the function for a Kinesis record.
func (k *Kinesis) record(shardID string, r ktypes.Record) (streamRecord, error) {
	seq := aws.ToString(r.SequenceNumber)
	arrival := millis(aws.ToTime(r.ApproximateArrivalTimestamp))
	ev := kinesisEventRecord{
		Kinesis: kinesisRecordData{
			KinesisSchemaVersion:        "1.0",
			PartitionKey:                aws.ToString(r.PartitionKey),
			SequenceNumber:              seq,
			Data:                        r.Data,
			ApproximateArrivalTimestamp: secondsMillis(arrival),
			EncryptionType:              string(r.EncryptionType),
		},
		EventSource:       "aws:kinesis",
		EventVersion:      "1.0",
		EventID:           shardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		InvokeIdentityARN: k.role,
		AWSRegion:         k.region,
		EventSourceARN:    k.srcARN,
	}
	if ev.Kinesis.EncryptionType == string(ktypes.EncryptionTypeNone) {
		ev.Kinesis.EncryptionType = ""
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return streamRecord{}, err
	}
	// Kinesis mappings filter on data only: a record whose data is not JSON matches no pattern.
	doc := map[string]any{}
	if v, ok := decodeJSON(r.Data); ok {
		doc["data"] = v
	}
	return streamRecord{seq: seq, arrival: arrival, raw: raw, doc: doc}, nil
}
