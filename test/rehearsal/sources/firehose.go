package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const mib = 1 << 20

// Firehose's defaults.
const (
	DefaultFirehoseBufferingSizeMB   = 5
	DefaultFirehoseBufferingInterval = 300 * time.Second
	DefaultProcessorBufferSizeMB     = 1
	DefaultProcessorBufferInterval   = 60 * time.Second
	DefaultProcessorNumberOfRetries  = 3
)

// ErrorOutputTypeProcessingFailed is what !{firehose:error-output-type} evaluates to for records the transformation
// failed.
const ErrorOutputTypeProcessingFailed = "processing-failed"

// The error codes and messages of Firehose's error records.
const (
	processingFailedStatusErrorCode    = "Lambda.ProcessingFailedStatus"
	processingFailedStatusErrorMessage = "ProcessingFailed status set for record"
	functionErrorCode                  = "Lambda.FunctionError"
	functionErrorMessage               = "The Lambda function was successfully invoked but it returned an error result."
)

// FirehoseSettings are the settings of a delivery stream with a Kinesis stream source and an S3 destination that the
// Firehose driver emulates. Make them with FirehoseSettingsFrom or by hand.
type FirehoseSettings struct {
	// DeliveryStreamName is the delivery stream's name: the first part of every object's name. Required.
	DeliveryStreamName string
	// DeliveryStreamARN is the delivery stream's ARN; made from the name and the source stream's region and
	// account when empty.
	DeliveryStreamARN string
	// SourceStreamARN is the Kinesis stream Firehose reads (KinesisStreamSourceConfiguration.KinesisStreamARN).
	SourceStreamARN string
	// BucketARN is the destination bucket's ARN.
	BucketARN string
	// Prefix is the data objects' key prefix, with !{timestamp:…} and !{firehose:random-string} expressions.
	// Empty is Firehose's default, YYYY/MM/dd/HH/; a prefix without expressions gets that time prefix appended.
	Prefix string
	// ErrorOutputPrefix is the error objects' key prefix, with !{firehose:error-output-type} too. Required when
	// Prefix has expressions, as Firehose requires it; when both are empty the errors go under
	// processing-failed/YYYY/MM/dd/HH/ after the plain prefix.
	ErrorOutputPrefix string
	// BufferingSizeMB is BufferingHints.SizeInMBs: an object is written when this much (MiB, before compression)
	// is buffered. DefaultFirehoseBufferingSizeMB when zero.
	BufferingSizeMB int
	// BufferingInterval is BufferingHints.IntervalInSeconds. It is not waited for: Drain ends by writing what is
	// buffered, as if the interval had elapsed.
	BufferingInterval time.Duration
	// CompressionFormat is UNCOMPRESSED (the default) or GZIP; ZIP, Snappy and HADOOP_SNAPPY are not emulated.
	CompressionFormat string
	// FileExtension overrides the objects' extension (.gz for GZIP, none when uncompressed).
	FileExtension string
	// CustomTimeZone is the time zone of the key's timestamps; UTC when empty.
	CustomTimeZone string
	// Processor is the Lambda transformation, nil for none (or ProcessingConfiguration.Enabled false).
	Processor *FirehoseProcessor
	// Version is the delivery stream's version, the second part of every object's name; 1 when zero.
	Version int
}

// FirehoseProcessor is a delivery stream's Lambda processor (ProcessingConfiguration.Processors, Type Lambda).
type FirehoseProcessor struct {
	// LambdaARN is the transformation function's ARN (parameter LambdaArn).
	LambdaARN string
	// BufferSizeMB (BufferSizeInMBs) bounds the data of one invocation, in MiB; DefaultProcessorBufferSizeMB when
	// zero.
	BufferSizeMB int
	// BufferInterval (BufferIntervalInSeconds) is read but not waited for.
	BufferInterval time.Duration
	// NumberOfRetries is how many times a failed invocation is retried; DefaultProcessorNumberOfRetries when
	// negative, as FirehoseSettingsFrom leaves it when unset.
	NumberOfRetries int
	// RoleARN is the role Firehose invokes the function with (parameter RoleArn); informational.
	RoleARN string
}

// FirehoseSettingsFrom reads the resolved properties (cfn.Deployment.Properties) of an
// AWS::KinesisFirehose::DeliveryStream of type KinesisStreamAsSource with an ExtendedS3DestinationConfiguration (or
// an S3DestinationConfiguration). DeliveryStreamName is read from the properties when they name it; otherwise set it
// to the stream's physical name (cfn.Deployment.Ref).
func FirehoseSettingsFrom(m map[string]any) (FirehoseSettings, error) {
	p := &props{m: m, what: "AWS::KinesisFirehose::DeliveryStream"}
	s := FirehoseSettings{DeliveryStreamName: p.str("DeliveryStreamName"), Version: 1}
	if t := p.str("DeliveryStreamType"); t != "" && t != "KinesisStreamAsSource" {
		return s, fmt.Errorf("DeliveryStreamType %s: only KinesisStreamAsSource is emulated", t)
	}
	if src := p.obj("KinesisStreamSourceConfiguration"); src != nil {
		s.SourceStreamARN = src.str("KinesisStreamARN")
	}
	dest := p.obj("ExtendedS3DestinationConfiguration")
	if dest == nil {
		dest = p.obj("S3DestinationConfiguration")
	}
	if dest == nil {
		if p.err != nil {
			return s, p.err
		}
		return s, fmt.Errorf("no ExtendedS3DestinationConfiguration: only S3 destinations are emulated")
	}
	s.BucketARN = dest.str("BucketARN")
	s.Prefix = dest.str("Prefix")
	s.ErrorOutputPrefix = dest.str("ErrorOutputPrefix")
	s.CompressionFormat = dest.str("CompressionFormat")
	s.FileExtension = dest.str("FileExtension")
	s.CustomTimeZone = dest.str("CustomTimeZone")
	if bh := dest.obj("BufferingHints"); bh != nil {
		s.BufferingSizeMB = bh.integer("SizeInMBs", DefaultFirehoseBufferingSizeMB)
		s.BufferingInterval = time.Duration(bh.integer("IntervalInSeconds", int(DefaultFirehoseBufferingInterval/time.Second))) * time.Second
		if bh.err != nil && dest.err == nil {
			dest.err = bh.err
		}
	}
	if pc := dest.obj("ProcessingConfiguration"); pc != nil && pc.boolean("Enabled", true) {
		for i, it := range pc.list("Processors") {
			proc := pc.child("Processors", i, it)
			if proc == nil {
				break
			}
			if t := proc.str("Type"); t != "Lambda" {
				return s, fmt.Errorf("processor %d of type %s is not emulated", i, t)
			}
			fp := &FirehoseProcessor{BufferSizeMB: DefaultProcessorBufferSizeMB, BufferInterval: DefaultProcessorBufferInterval, NumberOfRetries: -1}
			for j, pv := range proc.list("Parameters") {
				param := proc.child("Parameters", j, pv)
				if param == nil {
					break
				}
				name, value := param.str("ParameterName"), param.str("ParameterValue")
				pp := &props{m: map[string]any{name: value}, what: "processor parameter"}
				switch name {
				case "LambdaArn":
					fp.LambdaARN = value
				case "RoleArn":
					fp.RoleARN = value
				case "BufferSizeInMBs":
					fp.BufferSizeMB = pp.integer(name, DefaultProcessorBufferSizeMB)
				case "BufferIntervalInSeconds":
					fp.BufferInterval = time.Duration(pp.integer(name, 60)) * time.Second
				case "NumberOfRetries":
					fp.NumberOfRetries = pp.integer(name, DefaultProcessorNumberOfRetries)
				}
				if pp.err != nil && p.err == nil {
					p.err = pp.err
				}
			}
			if proc.err != nil && p.err == nil {
				p.err = proc.err
			}
			if s.Processor != nil {
				return s, fmt.Errorf("more than one Lambda processor")
			}
			s.Processor = fp
		}
		if pc.err != nil && p.err == nil {
			p.err = pc.err
		}
	}
	if dest.err != nil && p.err == nil {
		p.err = dest.err
	}
	return s, p.err
}

// Firehose emulates an Amazon Data Firehose delivery stream that reads a Kinesis data stream, transforms the records
// with a Lambda function and writes them to S3 (the data lake): it reads the source stream from moto, invokes the
// transformation with the events.KinesisFirehoseEvent Firehose sends and writes the objects Firehose would to moto's
// S3.
//
// What it emulates:
//   - the source: every shard of the stream, from LATEST when the driver is made (as Firehose starts a new delivery
//     stream), or TRIM_HORIZON (WithStartingPosition); records of all shards in arrival order;
//   - the transformation's event: invocationId, deliveryStreamArn, sourceKinesisStreamArn, region and records of
//     recordId, approximateArrivalTimestamp (epoch milliseconds), data (base64) and kinesisRecordMetadata{shardId,
//     partitionKey, sequenceNumber, subsequenceNumber 0, approximateArrivalTimestamp}, with at most the processor's
//     BufferSizeInMBs of data per invocation (at least one record);
//   - the answer: Ok records are delivered with the data the function returned, Dropped ones dropped,
//     ProcessingFailed ones (and records the answer leaves out) written to the error output; a failed invocation is
//     retried NumberOfRetries times, then its records go to the error output as Lambda.FunctionError;
//   - the objects: Ok data concatenated as returned (Firehose adds no delimiter), compressed with GZIP when set,
//     split when BufferingHints.SizeInMBs is reached; the key is the prefix evaluated at the approximate arrival
//     time of the object's oldest record (UTC, or CustomTimeZone) followed by
//     <deliveryStreamName>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><extension>, the time being the same instant and the
//     extension .gz for GZIP (or FileExtension);
//   - the error output: one JSON document per line, {"attemptsMade", "arrivalTimestamp", "errorCode",
//     "errorMessage", "attemptEndingTimestamp", "rawData" (the original data, base64), "lambdaArn"}, under
//     ErrorOutputPrefix with !{firehose:error-output-type} evaluated to processing-failed, named and compressed
//     like the data objects. A record the function set to ProcessingFailed has errorCode
//     Lambda.ProcessingFailedStatus.
//
// Arrival times are the source stream's; SetArrivalClock makes records stand for having arrived at other times (moto
// stamps them with the real time), for every use above at once.
//
// What it does not emulate: buffering intervals (Drain writes what it has read, as if they had elapsed); dynamic
// partitioning (partitionKeyFrom… expressions are refused), record format conversion, other processors, S3 backup,
// KMS encryption settings, CloudWatch logging, the 6 MB response limit beyond what the Invoker enforces, S3 write
// retries, and throughput limits. The recordId is opaque to the function; here it is the sequence number followed
// by a 20-digit subsequence number and the shard's number. The lambdaArn of error records is the processor's
// LambdaArn, with :$LATEST appended when it names no version (as published samples of error records show).
// Whether Firehose compresses its error objects is not documented: they are compressed here like the data objects.
//
// Drain is not safe for concurrent use; Stats and Objects may be called at any time.
type Firehose struct {
	s        FirehoseSettings
	fn       Invoker
	o        options
	kc       *kinesis.Client
	s3c      *s3.Client
	bucket   string
	region   string
	startPos string
	loc      *time.Location
	latest   map[string]string
	checks   map[string]string

	mu      sync.Mutex
	stats   FirehoseStats
	objects []DeliveredObject
	arrival func(time.Time) time.Time // see SetArrivalClock; nil for the stream's own times
}

// FirehoseStats counts what a Firehose driver did.
type FirehoseStats struct {
	// Records is how many records were read from the source stream.
	Records int
	// Invocations is how many times the transformation was invoked, Retries how many of those were retries.
	Invocations, Retries int
	// Ok, Dropped and ProcessingFailed count the records by the result they ended with (ProcessingFailed includes
	// records of invocations that failed for good, or that the answer left out).
	Ok, Dropped, ProcessingFailed int
	// Objects and ErrorObjects count the objects written to the data and error prefixes.
	Objects, ErrorObjects int
}

// DeliveredObject is an object a Firehose driver wrote.
type DeliveredObject struct {
	// Bucket and Key locate the object.
	Bucket, Key string
	// Error is true for an object of the error output.
	Error bool
	// Records is how many records (or error documents) it holds.
	Records int
	// Bytes is its size before compression.
	Bytes int
	// Oldest is the arrival time of its oldest record, which its key's timestamps show.
	Oldest time.Time
}

// NewFirehose makes a Firehose driver for a delivery stream of settings, invoking transform (nil when the stream has
// no processor), reading the source stream and writing the bucket at cfg's endpoint (moto).
func NewFirehose(ctx context.Context, cfg aws.Config, s FirehoseSettings, transform Invoker, opts ...Option) (*Firehose, error) {
	o := newOptions(opts)
	if s.DeliveryStreamName == "" {
		return nil, fmt.Errorf("Firehose driver: no DeliveryStreamName")
	}
	src, err := arn.Parse(s.SourceStreamARN)
	if err != nil || src.Service != "kinesis" {
		return nil, fmt.Errorf("Firehose driver: source %q is not a Kinesis stream ARN", s.SourceStreamARN)
	}
	b, err := arn.Parse(s.BucketARN)
	if err != nil || b.Service != "s3" {
		return nil, fmt.Errorf("Firehose driver: bucket %q is not an S3 bucket ARN", s.BucketARN)
	}
	if s.DeliveryStreamARN == "" {
		s.DeliveryStreamARN = fmt.Sprintf("arn:%s:firehose:%s:%s:deliverystream/%s", src.Partition, src.Region, src.AccountID, s.DeliveryStreamName)
	}
	if s.Version == 0 {
		s.Version = 1
	}
	if s.BufferingSizeMB == 0 {
		s.BufferingSizeMB = DefaultFirehoseBufferingSizeMB
	}
	switch s.CompressionFormat {
	case "", "UNCOMPRESSED", "GZIP":
	default:
		return nil, fmt.Errorf("Firehose driver: CompressionFormat %s is not emulated", s.CompressionFormat)
	}
	if s.Processor != nil {
		if transform == nil {
			return nil, fmt.Errorf("Firehose driver: the delivery stream has a Lambda processor (%s) and no function was given", s.Processor.LambdaARN)
		}
		if s.Processor.BufferSizeMB == 0 {
			s.Processor.BufferSizeMB = DefaultProcessorBufferSizeMB
		}
		if s.Processor.NumberOfRetries < 0 {
			s.Processor.NumberOfRetries = DefaultProcessorNumberOfRetries
		}
		if o.functionARN == "" {
			o.functionARN = s.Processor.LambdaARN
			if a, err := arn.Parse(o.functionARN); err == nil && strings.Count(a.Resource, ":") == 1 {
				o.functionARN += ":$LATEST"
			}
		}
	}
	f := &Firehose{s: s, fn: transform, o: o, kc: kinesis.NewFromConfig(cfg), s3c: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		bucket: b.Resource, region: src.Region, startPos: o.startPos, loc: time.UTC, latest: map[string]string{}, checks: map[string]string{}}
	if f.startPos == "" {
		f.startPos = "LATEST"
	}
	if f.startPos != "LATEST" && f.startPos != "TRIM_HORIZON" {
		return nil, fmt.Errorf("Firehose driver: starting position %q must be LATEST or TRIM_HORIZON", f.startPos)
	}
	if s.CustomTimeZone != "" && s.CustomTimeZone != "UTC" {
		if f.loc, err = time.LoadLocation(s.CustomTimeZone); err != nil {
			return nil, fmt.Errorf("Firehose driver: CustomTimeZone %s: %w", s.CustomTimeZone, err)
		}
	}
	if _, err := f.prefixes(time.Now()); err != nil {
		return nil, fmt.Errorf("Firehose driver: %w", err)
	}
	if f.startPos == "LATEST" {
		shards, err := f.shards(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range shards {
			out, err := f.kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &s.SourceStreamARN, ShardId: aws.String(id), ShardIteratorType: ktypes.ShardIteratorTypeLatest})
			if err != nil {
				return nil, fmt.Errorf("Firehose driver: GetShardIterator LATEST %s: %w", id, err)
			}
			f.latest[id] = aws.ToString(out.ShardIterator)
		}
	}
	return f, nil
}

// Settings returns the settings the driver runs with, defaults filled in.
func (f *Firehose) Settings() FirehoseSettings { return f.s }

// SetArrivalClock makes the records that later Drains read stand for records that arrived at another time: clock maps
// a record's approximate arrival time, as the source stream stamped it, to the time the record stands for having
// arrived. moto stamps records with the real time, and Firehose partitions the lake by arrival time, so a test that
// writes past hours of the lake maps each batch it puts into its hour.
//
// The mapped time, truncated to the millisecond, is used wherever Firehose uses a record's arrival: the
// approximateArrivalTimestamp of the transformation's records and of their kinesisRecordMetadata, the order in which
// records of different shards are delivered, the object key's timestamp prefix and the object name (both at the
// oldest record's mapped arrival, as DeliveredObject.Oldest), and the arrivalTimestamp of error records. What the
// clock does not change: the records in the stream (a reader of the stream still sees moto's times), and the times
// Firehose takes from its own clock (attemptEndingTimestamp of error records, see WithClock).
//
// nil restores the stream's own times. Do not call it during a Drain.
func (f *Firehose) SetArrivalClock(clock func(arrival time.Time) time.Time) {
	f.mu.Lock()
	f.arrival = clock
	f.mu.Unlock()
}

// arrivedAt is the arrival time a record stamped by the stream stands for: the stamp, or what the arrival clock maps
// it to (see SetArrivalClock), to the millisecond.
func (f *Firehose) arrivedAt(stamped time.Time) time.Time {
	f.mu.Lock()
	clock := f.arrival
	f.mu.Unlock()
	if clock == nil {
		return millis(stamped)
	}
	return millis(clock(millis(stamped)))
}

// Stats returns what the driver has done so far.
func (f *Firehose) Stats() FirehoseStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Objects returns the objects written so far, in order.
func (f *Firehose) Objects() []DeliveredObject {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]DeliveredObject(nil), f.objects...)
}

type firehoseRecord struct {
	shard, seq, key string
	data            []byte
	arrival         time.Time
}

// Drain reads everything the source stream holds past what was read before, transforms it and writes the objects,
// flushing the buffers at the end as if the buffering interval had elapsed. It returns the first error of moto or the
// context's; a failing transformation is not an error (its records go to the error output).
func (f *Firehose) Drain(ctx context.Context) error {
	recs, err := f.read(ctx)
	if err != nil || len(recs) == 0 {
		return err
	}
	f.count(func(s *FirehoseStats) { s.Records += len(recs) })
	var ok []firehoseRecord
	var failed []errorDoc
	if f.s.Processor == nil {
		ok = recs
		f.count(func(s *FirehoseStats) { s.Ok += len(recs) })
	} else {
		limit := f.s.Processor.BufferSizeMB * mib
		for start := 0; start < len(recs); {
			end, size := start, 0
			for end < len(recs) && (end == start || size+len(recs[end].data) <= limit) {
				size += len(recs[end].data)
				end++
			}
			o, fl, err := f.transform(ctx, recs[start:end])
			if err != nil {
				return err
			}
			ok, failed = append(ok, o...), append(failed, fl...)
			start = end
		}
	}
	if err := f.writeData(ctx, ok); err != nil {
		return err
	}
	if err := f.writeErrors(ctx, failed); err != nil {
		return err
	}
	for _, r := range recs {
		if c := f.checks[r.shard]; c == "" || seqLess(c, r.seq) {
			f.checks[r.shard] = r.seq
		}
	}
	return nil
}

func (f *Firehose) count(fn func(*FirehoseStats)) {
	f.mu.Lock()
	fn(&f.stats)
	f.mu.Unlock()
}

func (f *Firehose) shards(ctx context.Context) ([]string, error) {
	var ids []string
	in := &kinesis.ListShardsInput{StreamARN: aws.String(f.s.SourceStreamARN)}
	for {
		page, err := f.kc.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("Firehose driver: ListShards %s: %w", f.s.SourceStreamARN, err)
		}
		for _, sh := range page.Shards {
			ids = append(ids, aws.ToString(sh.ShardId))
		}
		if page.NextToken == nil {
			return ids, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

func (f *Firehose) read(ctx context.Context) ([]firehoseRecord, error) {
	shards, err := f.shards(ctx)
	if err != nil {
		return nil, err
	}
	var recs []firehoseRecord
	for _, id := range shards {
		var iter *string
		in := &kinesis.GetShardIteratorInput{StreamARN: aws.String(f.s.SourceStreamARN), ShardId: aws.String(id)}
		switch {
		case f.checks[id] != "":
			in.ShardIteratorType, in.StartingSequenceNumber = ktypes.ShardIteratorTypeAfterSequenceNumber, aws.String(f.checks[id])
		case f.latest[id] != "":
			iter = aws.String(f.latest[id])
		default:
			in.ShardIteratorType = ktypes.ShardIteratorTypeTrimHorizon
		}
		if iter == nil {
			out, err := f.kc.GetShardIterator(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("Firehose driver: GetShardIterator %s: %w", id, err)
			}
			iter = out.ShardIterator
		}
		for iter != nil {
			out, err := f.kc.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, StreamARN: aws.String(f.s.SourceStreamARN)})
			if err != nil {
				return nil, fmt.Errorf("Firehose driver: GetRecords %s: %w", id, err)
			}
			for _, r := range out.Records {
				recs = append(recs, firehoseRecord{shard: id, seq: aws.ToString(r.SequenceNumber), key: aws.ToString(r.PartitionKey),
					data: r.Data, arrival: f.arrivedAt(aws.ToTime(r.ApproximateArrivalTimestamp))})
			}
			if len(out.Records) == 0 {
				break
			}
			iter = out.NextShardIterator
		}
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].arrival.Before(recs[j].arrival) })
	return recs, nil
}

// recordID is the opaque id of a record in the transformation's event: its sequence number, a 20-digit subsequence
// number and its shard's number, which makes it unique in moto too (moto numbers each shard's records from 1).
func recordID(r firehoseRecord) string {
	return r.seq + fmt.Sprintf("%020d", 0) + strings.TrimPrefix(r.shard, "shardId-")
}

// errorDoc is one record of the error output.
type errorDoc struct {
	AttemptsMade           int    `json:"attemptsMade"`
	ArrivalTimestamp       int64  `json:"arrivalTimestamp"`
	ErrorCode              string `json:"errorCode"`
	ErrorMessage           string `json:"errorMessage"`
	AttemptEndingTimestamp int64  `json:"attemptEndingTimestamp"`
	RawData                string `json:"rawData"`
	LambdaARN              string `json:"lambdaArn"`

	arrival time.Time
}

func (f *Firehose) failure(r firehoseRecord, attempts int, code, msg string) errorDoc {
	return errorDoc{AttemptsMade: attempts, ArrivalTimestamp: r.arrival.UnixMilli(), ErrorCode: code, ErrorMessage: msg,
		AttemptEndingTimestamp: f.o.now().UnixMilli(), RawData: base64.StdEncoding.EncodeToString(r.data), LambdaARN: f.o.functionARN, arrival: r.arrival}
}

// transform invokes the processor with one batch, with retries, and sorts its records by result.
func (f *Firehose) transform(ctx context.Context, batch []firehoseRecord) ([]firehoseRecord, []errorDoc, error) {
	ev := events.KinesisFirehoseEvent{
		InvocationID: newUUID(), DeliveryStreamArn: f.s.DeliveryStreamARN, SourceKinesisStreamArn: f.s.SourceStreamARN, Region: f.region,
	}
	for _, r := range batch {
		at := events.MilliSecondsEpochTime{Time: r.arrival}
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
			RecordID: recordID(r), ApproximateArrivalTimestamp: at, Data: r.data,
			KinesisFirehoseRecordMetadata: events.KinesisFirehoseRecordMetadata{
				ShardID: r.shard, PartitionKey: r.key, SequenceNumber: r.seq, SubsequenceNumber: 0, ApproximateArrivalTimestamp: at,
			},
		})
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, nil, err
	}
	attempts := 1 + f.s.Processor.NumberOfRetries
	var resp []byte
	var lastErr error
	made := 0
	for made < attempts {
		made++
		f.count(func(s *FirehoseStats) {
			s.Invocations++
			if made > 1 {
				s.Retries++
			}
		})
		resp, lastErr = f.fn.Invoke(ctx, payload)
		if lastErr != nil && isContextError(ctx, lastErr) {
			return nil, nil, lastErr
		}
		if lastErr == nil {
			break
		}
		f.o.logf("Firehose %s: transformation of %d records failed (attempt %d of %d): %v", f.s.DeliveryStreamName, len(batch), made, attempts, lastErr)
	}
	var ok []firehoseRecord
	var failed []errorDoc
	if lastErr != nil {
		for _, r := range batch {
			failed = append(failed, f.failure(r, made, functionErrorCode, functionErrorMessage))
		}
		f.count(func(s *FirehoseStats) { s.ProcessingFailed += len(batch) })
		return nil, failed, nil
	}
	var out struct {
		Records []struct {
			RecordID string  `json:"recordId"`
			Result   string  `json:"result"`
			Data     *string `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		for _, r := range batch {
			failed = append(failed, f.failure(r, made, "Lambda.JsonProcessingException", "The Lambda function's answer is not the response Firehose expects: "+err.Error()))
		}
		f.count(func(s *FirehoseStats) { s.ProcessingFailed += len(batch) })
		return nil, failed, nil
	}
	results := map[string]int{}
	for i, r := range out.Records {
		results[r.RecordID] = i
	}
	nOk, nDropped, nFailed := 0, 0, 0
	for _, r := range batch {
		i, found := results[recordID(r)]
		if !found {
			failed = append(failed, f.failure(r, made, "Lambda.MissingRecordId", "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids."))
			nFailed++
			continue
		}
		res := out.Records[i]
		switch res.Result {
		case events.KinesisFirehoseTransformedStateOk:
			data, err := base64.StdEncoding.DecodeString(aws.ToString(res.Data))
			if err != nil {
				failed = append(failed, f.failure(r, made, "Lambda.InvalidReturnFormat", "The data of an Ok record is not base64."))
				nFailed++
				continue
			}
			out := r
			out.data = data
			ok = append(ok, out)
			nOk++
		case events.KinesisFirehoseTransformedStateDropped:
			nDropped++
		case events.KinesisFirehoseTransformedStateProcessingFailed:
			failed = append(failed, f.failure(r, made, processingFailedStatusErrorCode, processingFailedStatusErrorMessage))
			nFailed++
		default:
			failed = append(failed, f.failure(r, made, "Lambda.InvalidReturnFormat", fmt.Sprintf("The result %q is not Ok, Dropped or ProcessingFailed.", res.Result)))
			nFailed++
		}
	}
	f.count(func(s *FirehoseStats) { s.Ok += nOk; s.Dropped += nDropped; s.ProcessingFailed += nFailed })
	f.o.logf("Firehose %s: transformed %d records: %d ok, %d dropped, %d failed", f.s.DeliveryStreamName, len(batch), nOk, nDropped, nFailed)
	return ok, failed, nil
}

func (f *Firehose) writeData(ctx context.Context, recs []firehoseRecord) error {
	limit := f.s.BufferingSizeMB * mib
	var buf bytes.Buffer
	var n int
	var oldest time.Time
	flush := func() error {
		if n == 0 {
			return nil
		}
		err := f.put(ctx, false, buf.Bytes(), n, oldest)
		buf.Reset()
		n, oldest = 0, time.Time{}
		return err
	}
	for _, r := range recs {
		buf.Write(r.data)
		n++
		if oldest.IsZero() || r.arrival.Before(oldest) {
			oldest = r.arrival
		}
		if buf.Len() >= limit {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func (f *Firehose) writeErrors(ctx context.Context, docs []errorDoc) error {
	var buf bytes.Buffer
	var oldest time.Time
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
		if oldest.IsZero() || d.arrival.Before(oldest) {
			oldest = d.arrival
		}
	}
	if len(docs) == 0 {
		return nil
	}
	return f.put(ctx, true, buf.Bytes(), len(docs), oldest)
}

// put writes one object under the data or error prefix evaluated at oldest.
func (f *Firehose) put(ctx context.Context, isError bool, body []byte, records int, oldest time.Time) error {
	pfx, err := f.prefixes(oldest)
	if err != nil {
		return err
	}
	prefix := pfx.data
	if isError {
		prefix = pfx.errors
	}
	key := prefix + f.ObjectName(oldest)
	raw := len(body)
	if f.s.CompressionFormat == "GZIP" {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(body)
		if err := w.Close(); err != nil {
			return err
		}
		body = z.Bytes()
	}
	_, err = f.s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: &key, Body: bytes.NewReader(body), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		return fmt.Errorf("Firehose driver: PutObject %s: %w", key, err)
	}
	f.mu.Lock()
	f.objects = append(f.objects, DeliveredObject{Bucket: f.bucket, Key: key, Error: isError, Records: records, Bytes: raw, Oldest: oldest})
	if isError {
		f.stats.ErrorObjects++
	} else {
		f.stats.Objects++
	}
	f.mu.Unlock()
	f.o.logf("Firehose %s: wrote s3://%s/%s (%d records, %d bytes)", f.s.DeliveryStreamName, f.bucket, key, records, raw)
	return nil
}

// ObjectName is the name Firehose gives an object whose oldest record arrived at t, after the evaluated prefix:
// <deliveryStreamName>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid><extension>.
func (f *Firehose) ObjectName(t time.Time) string {
	ext := f.s.FileExtension
	if ext == "" && f.s.CompressionFormat == "GZIP" {
		ext = ".gz"
	}
	return fmt.Sprintf("%s-%d-%s-%s%s", f.s.DeliveryStreamName, f.s.Version, t.In(f.loc).Format("2006-01-02-15-04-05"), newUUID(), ext)
}

type evaluatedPrefixes struct{ data, errors string }

// prefixes evaluates the data and error prefixes at t.
func (f *Firehose) prefixes(t time.Time) (evaluatedPrefixes, error) {
	t = t.In(f.loc)
	const defaultTime = "!{timestamp:yyyy/MM/dd/HH}/"
	prefix, errPrefix := f.s.Prefix, f.s.ErrorOutputPrefix
	hasExpr := strings.Contains(prefix, "!{")
	if hasExpr && errPrefix == "" {
		return evaluatedPrefixes{}, fmt.Errorf("Prefix %q has expressions and there is no ErrorOutputPrefix, which Firehose then requires", prefix)
	}
	if errPrefix == "" {
		errPrefix = prefix + ErrorOutputTypeProcessingFailed + "/" + defaultTime
	}
	if !hasExpr {
		prefix += defaultTime
	}
	data, err := EvaluatePrefix(prefix, t, "")
	if err != nil {
		return evaluatedPrefixes{}, fmt.Errorf("Prefix: %w", err)
	}
	errs, err := EvaluatePrefix(errPrefix, t, ErrorOutputTypeProcessingFailed)
	if err != nil {
		return evaluatedPrefixes{}, fmt.Errorf("ErrorOutputPrefix: %w", err)
	}
	return evaluatedPrefixes{data, errs}, nil
}

// EvaluatePrefix evaluates the expressions of a Firehose S3 prefix: !{timestamp:<Java DateTimeFormatter pattern>}
// at t (every occurrence the same instant), !{firehose:random-string} (11 random characters) and, when errorType is
// not empty, !{firehose:error-output-type}. Dynamic partitioning's !{partitionKeyFromQuery:…} and
// !{partitionKeyFromLambda:…} are not emulated.
func EvaluatePrefix(prefix string, t time.Time, errorType string) (string, error) {
	var b strings.Builder
	rest := prefix
	for {
		i := strings.Index(rest, "!{")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("%q: unterminated expression", prefix)
		}
		expr := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		ns, val, _ := strings.Cut(expr, ":")
		switch {
		case ns == "timestamp":
			s, err := javaTimeFormat(val, t)
			if err != nil {
				return "", fmt.Errorf("%q: %w", prefix, err)
			}
			b.WriteString(s)
		case ns == "firehose" && val == "random-string":
			b.WriteString(randomString(11))
		case ns == "firehose" && val == "error-output-type":
			if errorType == "" {
				return "", fmt.Errorf("%q: !{firehose:error-output-type} belongs in ErrorOutputPrefix only", prefix)
			}
			b.WriteString(errorType)
		default:
			return "", fmt.Errorf("%q: the expression !{%s} is not emulated", prefix, expr)
		}
	}
}

func randomString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// javaTimeFormat formats t with a Java DateTimeFormatter pattern: the letters y, u, M, d, H, m, s and S in the
// lengths Firehose's documented prefixes use, 'quoted' text and any other character as itself.
func javaTimeFormat(pattern string, t time.Time) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		if c == '\'' {
			j := strings.IndexByte(pattern[i+1:], '\'')
			if j < 0 {
				return "", fmt.Errorf("timestamp pattern %q: unterminated quote", pattern)
			}
			if j == 0 {
				b.WriteByte('\'')
			} else {
				b.WriteString(pattern[i+1 : i+1+j])
			}
			i += j + 2
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(pattern) && pattern[i+n] == c {
			n++
		}
		num := func(v, width int) string { return fmt.Sprintf("%0*d", width, v) }
		switch {
		case (c == 'y' || c == 'u') && n == 2:
			b.WriteString(num(t.Year()%100, 2))
		case c == 'y' || c == 'u':
			b.WriteString(num(t.Year(), n))
		case c == 'M' && n <= 2:
			b.WriteString(num(int(t.Month()), n))
		case c == 'd' && n <= 2:
			b.WriteString(num(t.Day(), n))
		case c == 'H' && n <= 2:
			b.WriteString(num(t.Hour(), n))
		case c == 'm' && n <= 2:
			b.WriteString(num(t.Minute(), n))
		case c == 's' && n <= 2:
			b.WriteString(num(t.Second(), n))
		case c == 'S' && n <= 9:
			b.WriteString(fmt.Sprintf("%09d", t.Nanosecond())[:n])
		default:
			return "", fmt.Errorf("timestamp pattern %q: %q is not emulated", pattern, pattern[i:i+n])
		}
		i += n
	}
	return b.String(), nil
}
