package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Conditions of an invocation record: why a stream driver gave up on a batch.
const (
	ConditionRetryAttemptsExhausted = "RetryAttemptsExhausted"
	ConditionRecordAgeExceeded      = "RecordAgeExceeded"
)

// FailureRecord is an invocation record a stream driver sent to the mapping's on-failure destination (or would have
// sent, when the mapping has none: then it is only recorded here).
type FailureRecord struct {
	// Destination is the destination's ARN, "" when the mapping has none.
	Destination string
	// Key is the object key, for an S3 destination.
	Key string
	// Condition is ConditionRetryAttemptsExhausted or ConditionRecordAgeExceeded.
	Condition string
	// ShardID is the shard the records came from.
	ShardID string
	// StartSequenceNumber and EndSequenceNumber are the first and last records' sequence numbers.
	StartSequenceNumber, EndSequenceNumber string
	// BatchSize is how many records the record covers.
	BatchSize int
	// Document is the JSON document sent: the invocation record, with the payload for an S3 destination.
	Document json.RawMessage
}

// invocationRecord is what Lambda sends to an on-failure destination of a stream mapping
// (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
type invocationRecord struct {
	RequestContext  requestContext   `json:"requestContext"`
	ResponseContext *responseContext `json:"responseContext,omitempty"`
	Version         string           `json:"version"`
	Timestamp       string           `json:"timestamp"`
	// Exactly one of the batch infos is set.
	KinesisBatchInfo   *batchInfo      `json:"KinesisBatchInfo,omitempty"`
	DDBStreamBatchInfo *batchInfo      `json:"DDBStreamBatchInfo,omitempty"`
	Payload            json.RawMessage `json:"payload,omitempty"`
}

type requestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

type responseContext struct {
	StatusCode      int    `json:"statusCode"`
	ExecutedVersion string `json:"executedVersion"`
	FunctionError   string `json:"functionError,omitempty"`
}

type batchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// destination delivers invocation records to an on-failure destination in moto: SendMessage to an SQS queue,
// Publish to an SNS topic, PutObject to an S3 bucket (under Lambda's key layout, with the payload).
type destination struct {
	arn string
	cfg aws.Config

	once     sync.Once
	queueURL string
	err      error
}

func (d *destination) service() string {
	if a, err := arn.Parse(d.arn); err == nil {
		return a.Service
	}
	return ""
}

// deliver sends doc (and, for S3, doc with the payload) and returns the S3 key when there is one.
func (d *destination) deliver(ctx context.Context, rec invocationRecord, payload []byte, mappingUUID, shardID string, now time.Time) (string, json.RawMessage, error) {
	if d == nil || d.arn == "" {
		doc, err := json.Marshal(rec)
		return "", doc, err
	}
	a, err := arn.Parse(d.arn)
	if err != nil {
		return "", nil, fmt.Errorf("on-failure destination %q: %w", d.arn, err)
	}
	switch a.Service {
	case "sqs":
		doc, err := json.Marshal(rec)
		if err != nil {
			return "", nil, err
		}
		d.once.Do(func() {
			c := sqs.NewFromConfig(d.cfg)
			out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(a.Resource), QueueOwnerAWSAccountId: aws.String(a.AccountID)})
			if err != nil {
				d.err = fmt.Errorf("on-failure destination %s: GetQueueUrl: %w", d.arn, err)
				return
			}
			d.queueURL = aws.ToString(out.QueueUrl)
		})
		if d.err != nil {
			return "", doc, d.err
		}
		_, err = sqs.NewFromConfig(d.cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &d.queueURL, MessageBody: aws.String(string(doc))})
		if err != nil {
			return "", doc, fmt.Errorf("on-failure destination %s: SendMessage: %w", d.arn, err)
		}
		return "", doc, nil
	case "sns":
		doc, err := json.Marshal(rec)
		if err != nil {
			return "", nil, err
		}
		_, err = sns.NewFromConfig(d.cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String(d.arn), Message: aws.String(string(doc))})
		if err != nil {
			return "", doc, fmt.Errorf("on-failure destination %s: Publish: %w", d.arn, err)
		}
		return "", doc, nil
	case "s3":
		rec.Payload = payload
		doc, err := json.Marshal(rec)
		if err != nil {
			return "", nil, err
		}
		bucket := a.Resource
		if i := strings.IndexByte(bucket, '/'); i >= 0 {
			bucket = bucket[:i]
		}
		key := FailureObjectKey(mappingUUID, shardID, now)
		c := s3.NewFromConfig(d.cfg, func(o *s3.Options) { o.UsePathStyle = true })
		_, err = c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: &key, Body: bytes.NewReader(doc), ContentType: aws.String("application/json"),
		})
		if err != nil {
			return key, doc, fmt.Errorf("on-failure destination %s: PutObject %s: %w", d.arn, key, err)
		}
		return key, doc, nil
	}
	return "", nil, fmt.Errorf("on-failure destination %s: not an SQS queue, SNS topic or S3 bucket", d.arn)
}

// FailureObjectKey is the key under which Lambda writes an invocation record to an S3 on-failure destination:
// aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>.
func FailureObjectKey(mappingUUID, shardID string, t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("aws/lambda/%s/%s/%s/%s-%s", mappingUUID, shardID, t.Format("2006/01/02"), t.Format("2006-01-02T15.04.05"), newUUID())
}
