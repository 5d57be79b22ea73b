package sources

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/eventlake/eventlake/mapping"
)

// Lambda's default batch sizes of a stream (Kinesis, DynamoDB Streams) and of an SQS event source mapping.
const (
	DefaultStreamBatchSize = 100
	DefaultSQSBatchSize    = 10
)

// StreamSettings are the settings of a Kinesis or DynamoDB Streams event source mapping that the stream drivers
// emulate. Make them with KinesisSettingsFrom or DynamoDBSettingsFrom, or by hand.
type StreamSettings struct {
	// EventSourceARN is the Kinesis stream's ARN, a Kinesis stream consumer's ARN (enhanced fan-out) or a DynamoDB
	// table stream's ARN.
	EventSourceARN string
	// FunctionName is the function as the mapping names it (a name or an ARN); it is the functionArn of invocation
	// records.
	FunctionName string
	// BatchSize is the most records per invocation (DefaultStreamBatchSize when zero). A batch is also cut before it
	// would exceed Lambda's 6 MB payload limit.
	BatchSize int
	// MaximumBatchingWindow is read but not waited for: a batch holds the records the shard has when it is read, as
	// if the window had elapsed.
	MaximumBatchingWindow time.Duration
	// StartingPosition is TRIM_HORIZON, LATEST (the shard's end when the driver is made, which stands for the
	// moment the mapping is created) or AT_TIMESTAMP (Kinesis only).
	StartingPosition string
	// StartingPositionTimestamp goes with AT_TIMESTAMP.
	StartingPositionTimestamp time.Time
	// ParallelizationFactor is read but batches of a shard run one at a time (a factor of 1), a schedule Lambda may
	// also choose; order per partition key holds either way.
	ParallelizationFactor int
	// BisectBatchOnFunctionError splits a failed batch in two; a split does not consume a retry.
	BisectBatchOnFunctionError bool
	// ReportBatchItemFailures (FunctionResponseTypes ReportBatchItemFailures) lets the function report the records
	// it failed.
	ReportBatchItemFailures bool
	// MaximumRetryAttempts is how many times a failed batch is retried before it is given up; -1 is infinite, 0 no
	// retry (the zero value: KinesisSettingsFrom and DynamoDBSettingsFrom give Lambda's default, -1).
	MaximumRetryAttempts int
	// MaximumRecordAgeInSeconds: older records are given up without invocation; -1 (and 0, which Lambda does not
	// accept) is infinite.
	MaximumRecordAgeInSeconds int
	// OnFailureDestination is the ARN of the SQS queue, SNS topic or S3 bucket that receives the invocation records
	// of the batches given up; "" for none.
	OnFailureDestination string
	// FilterPatterns are the filter criteria's patterns (see Filter).
	FilterPatterns []string
	// TumblingWindowInSeconds is not emulated: a driver refuses a mapping that sets it.
	TumblingWindowInSeconds int
	// Enabled: a disabled mapping reads nothing.
	Enabled bool
}

// KinesisSettingsFrom reads the resolved properties (see cfn.Deployment.Properties) of either an
// AWS::Lambda::EventSourceMapping of a Kinesis stream or eventlake's Custom::EventlakeSubscription (whose
// properties package mapping defines and parses, every scalar a string). Unset settings take Lambda's defaults:
// BatchSize 100, infinite retries and record age, no bisect. StartingPosition is required on an
// AWS::Lambda::EventSourceMapping, as Lambda requires it, and TRIM_HORIZON by default on the custom resource, as the
// mapper sets it.
func KinesisSettingsFrom(props map[string]any) (StreamSettings, error) {
	if isSubscription(props) {
		return subscriptionSettings(props)
	}
	s, err := esmStreamSettings(props, "kinesis")
	if err != nil {
		return s, err
	}
	if a, _ := arn.Parse(s.EventSourceARN); !strings.HasPrefix(a.Resource, "stream/") {
		return s, fmt.Errorf("EventSourceArn %q is not a Kinesis stream or stream consumer", s.EventSourceARN)
	}
	return s, nil
}

// DynamoDBSettingsFrom reads the resolved properties of an AWS::Lambda::EventSourceMapping of a DynamoDB table
// stream, with Lambda's defaults for unset settings.
func DynamoDBSettingsFrom(props map[string]any) (StreamSettings, error) {
	s, err := esmStreamSettings(props, "dynamodb")
	if err != nil {
		return s, err
	}
	if s.StartingPosition == "AT_TIMESTAMP" {
		return s, fmt.Errorf("StartingPosition AT_TIMESTAMP is not supported for DynamoDB Streams")
	}
	if a, _ := arn.Parse(s.EventSourceARN); !strings.Contains(a.Resource, "/stream/") {
		return s, fmt.Errorf("EventSourceArn %q is not a DynamoDB table stream", s.EventSourceARN)
	}
	return s, nil
}

// isSubscription tells a Custom::EventlakeSubscription's properties from an AWS::Lambda::EventSourceMapping's.
func isSubscription(props map[string]any) bool {
	// Properties only the custom resource has (AWS::Lambda::EventSourceMapping names them FunctionResponseTypes,
	// DestinationConfig, FilterCriteria and MetricsConfig).
	for _, k := range []string{"ServiceToken", "OnFailureDestination", "ReportBatchItemFailures", "FilterPatterns", "Metrics"} {
		if _, ok := props[k]; ok {
			return true
		}
	}
	return false
}

// subscriptionSettings parses a Custom::EventlakeSubscription's properties with the mapper's own parser.
func subscriptionSettings(props map[string]any) (StreamSettings, error) {
	raw := make(map[string]any, len(props))
	for k, v := range props {
		switch x := v.(type) {
		case json.Number:
			raw[k] = x.String()
		case int:
			raw[k] = strconv.Itoa(x)
		case []string:
			l := make([]any, len(x))
			for i, s := range x {
				l[i] = s
			}
			raw[k] = l
		default:
			raw[k] = v
		}
	}
	p, err := mapping.ParseProperties(raw)
	if err != nil {
		return StreamSettings{}, fmt.Errorf("Custom::EventlakeSubscription: %w", err)
	}
	s := StreamSettings{
		EventSourceARN:            p.EventSourceArn,
		FunctionName:              p.FunctionName,
		BatchSize:                 DefaultStreamBatchSize,
		StartingPosition:          string(p.StartingPosition),
		ParallelizationFactor:     1,
		MaximumRetryAttempts:      -1,
		MaximumRecordAgeInSeconds: -1,
		OnFailureDestination:      p.OnFailureDestination,
		FilterPatterns:            p.FilterPatterns,
		Enabled:                   true,
	}
	if p.BatchSize != nil {
		s.BatchSize = int(*p.BatchSize)
	}
	if p.MaximumBatchingWindowInSeconds != nil {
		s.MaximumBatchingWindow = time.Duration(*p.MaximumBatchingWindowInSeconds) * time.Second
	}
	if p.StartingPositionTimestamp != nil {
		s.StartingPositionTimestamp = *p.StartingPositionTimestamp
	}
	if p.ParallelizationFactor != nil {
		s.ParallelizationFactor = int(*p.ParallelizationFactor)
	}
	if p.BisectBatchOnFunctionError != nil {
		s.BisectBatchOnFunctionError = *p.BisectBatchOnFunctionError
	}
	if p.MaximumRetryAttempts != nil {
		s.MaximumRetryAttempts = int(*p.MaximumRetryAttempts)
	}
	if p.MaximumRecordAgeInSeconds != nil {
		s.MaximumRecordAgeInSeconds = int(*p.MaximumRecordAgeInSeconds)
	}
	if p.ReportBatchItemFailures != nil {
		s.ReportBatchItemFailures = *p.ReportBatchItemFailures
	}
	if p.TumblingWindowInSeconds != nil {
		s.TumblingWindowInSeconds = int(*p.TumblingWindowInSeconds)
	}
	if p.Enabled != nil {
		s.Enabled = *p.Enabled
	}
	return s, nil
}

// esmStreamSettings parses an AWS::Lambda::EventSourceMapping of a stream of service (kinesis or dynamodb).
func esmStreamSettings(m map[string]any, service string) (StreamSettings, error) {
	p := &props{m: m, what: "AWS::Lambda::EventSourceMapping"}
	s := StreamSettings{
		EventSourceARN:             p.str("EventSourceArn"),
		FunctionName:               p.str("FunctionName"),
		BatchSize:                  p.integer("BatchSize", DefaultStreamBatchSize),
		MaximumBatchingWindow:      time.Duration(p.integer("MaximumBatchingWindowInSeconds", 0)) * time.Second,
		StartingPosition:           p.str("StartingPosition"),
		ParallelizationFactor:      p.integer("ParallelizationFactor", 1),
		BisectBatchOnFunctionError: p.boolean("BisectBatchOnFunctionError", false),
		MaximumRetryAttempts:       p.integer("MaximumRetryAttempts", -1),
		MaximumRecordAgeInSeconds:  p.integer("MaximumRecordAgeInSeconds", -1),
		TumblingWindowInSeconds:    p.integer("TumblingWindowInSeconds", 0),
		Enabled:                    p.boolean("Enabled", true),
	}
	if ts := p.str("StartingPositionTimestamp"); ts != "" {
		secs, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			p.fail("StartingPositionTimestamp", ts, "must be epoch seconds")
		}
		s.StartingPositionTimestamp = time.Unix(0, int64(secs*float64(time.Second))).UTC()
	}
	if dc := p.obj("DestinationConfig"); dc != nil {
		if of := dc.obj("OnFailure"); of != nil {
			s.OnFailureDestination = of.str("Destination")
			if of.err != nil && p.err == nil {
				p.err = of.err
			}
		}
		if dc.err != nil && p.err == nil {
			p.err = dc.err
		}
	}
	for _, t := range p.strs("FunctionResponseTypes") {
		if t != "ReportBatchItemFailures" {
			p.fail("FunctionResponseTypes", t, "must be ReportBatchItemFailures")
		}
		s.ReportBatchItemFailures = true
	}
	s.FilterPatterns = filterPatterns(p)
	if p.err != nil {
		return s, p.err
	}
	a, err := arn.Parse(s.EventSourceARN)
	if err != nil || a.Service != service {
		return s, fmt.Errorf("EventSourceArn %q is not a %s ARN", s.EventSourceARN, service)
	}
	if s.FunctionName == "" {
		return s, fmt.Errorf("FunctionName is required")
	}
	switch s.StartingPosition {
	case "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
	case "":
		return s, fmt.Errorf("StartingPosition is required for a stream event source")
	default:
		return s, fmt.Errorf("StartingPosition %q must be TRIM_HORIZON, LATEST or AT_TIMESTAMP", s.StartingPosition)
	}
	if (s.StartingPosition == "AT_TIMESTAMP") != !s.StartingPositionTimestamp.IsZero() {
		return s, fmt.Errorf("StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP, and only with it")
	}
	if s.BatchSize < 1 || s.BatchSize > 10000 {
		return s, fmt.Errorf("BatchSize %d must be from 1 to 10000", s.BatchSize)
	}
	return s, nil
}

// filterPatterns reads FilterCriteria.Filters[].Pattern.
func filterPatterns(p *props) []string {
	fc := p.obj("FilterCriteria")
	if fc == nil {
		return nil
	}
	var out []string
	for i, f := range fc.list("Filters") {
		c := fc.child("Filters", i, f)
		if c == nil {
			break
		}
		out = append(out, c.str("Pattern"))
		if c.err != nil && p.err == nil {
			p.err = c.err
		}
	}
	if fc.err != nil && p.err == nil {
		p.err = fc.err
	}
	return out
}

// SQSSettings are the settings of an SQS event source mapping that the SQS driver emulates.
type SQSSettings struct {
	// EventSourceARN is the queue's ARN.
	EventSourceARN string
	// FunctionName is the function as the mapping names it.
	FunctionName string
	// BatchSize is the most messages per invocation (DefaultSQSBatchSize when zero).
	BatchSize int
	// MaximumBatchingWindow is read but not waited for: the driver receives until the batch is full or a receive
	// comes back empty, as if the window had elapsed then.
	MaximumBatchingWindow time.Duration
	// ReportBatchItemFailures (FunctionResponseTypes ReportBatchItemFailures) lets the function report the messages
	// it failed; the others are deleted.
	ReportBatchItemFailures bool
	// FilterPatterns are not emulated for SQS: the driver refuses a mapping that sets them.
	FilterPatterns []string
	// Enabled: a disabled mapping receives nothing.
	Enabled bool
}

// SQSSettingsFrom reads the resolved properties of an AWS::Lambda::EventSourceMapping of an SQS queue.
func SQSSettingsFrom(m map[string]any) (SQSSettings, error) {
	p := &props{m: m, what: "AWS::Lambda::EventSourceMapping"}
	s := SQSSettings{
		EventSourceARN:        p.str("EventSourceArn"),
		FunctionName:          p.str("FunctionName"),
		BatchSize:             p.integer("BatchSize", DefaultSQSBatchSize),
		MaximumBatchingWindow: time.Duration(p.integer("MaximumBatchingWindowInSeconds", 0)) * time.Second,
		Enabled:               p.boolean("Enabled", true),
	}
	for _, t := range p.strs("FunctionResponseTypes") {
		if t != "ReportBatchItemFailures" {
			p.fail("FunctionResponseTypes", t, "must be ReportBatchItemFailures")
		}
		s.ReportBatchItemFailures = true
	}
	s.FilterPatterns = filterPatterns(p)
	if p.err != nil {
		return s, p.err
	}
	if a, err := arn.Parse(s.EventSourceARN); err != nil || a.Service != "sqs" {
		return s, fmt.Errorf("EventSourceArn %q is not an SQS queue ARN", s.EventSourceARN)
	}
	if s.BatchSize < 1 || s.BatchSize > 10000 {
		return s, fmt.Errorf("BatchSize %d must be from 1 to 10000", s.BatchSize)
	}
	if s.BatchSize > 10 && s.MaximumBatchingWindow == 0 {
		return s, fmt.Errorf("BatchSize %d above 10 needs MaximumBatchingWindowInSeconds of at least 1, as Lambda requires", s.BatchSize)
	}
	return s, nil
}
