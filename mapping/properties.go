package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/contract"
)

// Limits of a Kinesis event source mapping: package contract's, which constructs/subscription checks props against.
const (
	// MinBatchSize is the fewest records per invocation.
	MinBatchSize = contract.MinBatchSize
	// MaxBatchSize is the most records per invocation.
	MaxBatchSize = contract.MaxBatchSize
	// MaxBatchingWindowSeconds is the longest batching window.
	MaxBatchingWindowSeconds = contract.MaxBatchingWindowSeconds
	// MinParallelization is the fewest batches of one shard processed at once.
	MinParallelization = contract.MinParallelization
	// MaxParallelization is the most batches of one shard processed at once.
	MaxParallelization = contract.MaxParallelization
	// MaxRetryAttempts is the most retries of a batch (-1 retries for ever).
	MaxRetryAttempts = contract.MaxRetryAttempts
	// MinRecordAgeSeconds is the shortest maximum record age (-1 keeps records for ever).
	MinRecordAgeSeconds = contract.MinRecordAgeSeconds
	// MaxRecordAgeSeconds is the longest maximum record age: 7 days.
	MaxRecordAgeSeconds = contract.MaxRecordAgeSeconds
	// MaxTumblingWindowSeconds is the longest tumbling window.
	MaxTumblingWindowSeconds = contract.MaxTumblingWindowSeconds
)

// Properties are the desired settings of one mapping, as the custom resource declares them.
type Properties struct {
	// FunctionName is the function's name or ARN, an alias or version ARN included. Required.
	FunctionName string
	// EventSourceArn is the stream's ARN, or a stream consumer's ARN for enhanced fan-out. Required.
	EventSourceArn string
	// BatchSize is the most records per invocation (1 to 10,000).
	BatchSize *int32
	// MaximumBatchingWindowInSeconds is how long to gather records before invoking (0 to 300).
	MaximumBatchingWindowInSeconds *int32
	// StartingPosition is TRIM_HORIZON (the default), LATEST or AT_TIMESTAMP.
	StartingPosition types.EventSourcePosition
	// StartingPositionTimestamp is required with AT_TIMESTAMP: RFC 3339 or epoch seconds.
	StartingPositionTimestamp *time.Time
	// ParallelizationFactor is how many batches of one shard are processed at once (1 to 10).
	ParallelizationFactor *int32
	// BisectBatchOnFunctionError splits a failing batch in two and retries each half.
	BisectBatchOnFunctionError *bool
	// MaximumRetryAttempts is -1 (infinite) to 10,000.
	MaximumRetryAttempts *int32
	// MaximumRecordAgeInSeconds is -1 (infinite) or 60 to 604,800.
	MaximumRecordAgeInSeconds *int32
	// OnFailureDestination is the ARN of an SQS queue, SNS topic or S3 bucket.
	OnFailureDestination string
	// ReportBatchItemFailures lets the function report the first record it failed.
	ReportBatchItemFailures *bool
	// FilterPatterns are the JSON filter patterns of the mapping's filter criteria.
	FilterPatterns []string
	// TumblingWindowInSeconds aggregates state over windows of this length (0 to 900).
	TumblingWindowInSeconds *int32
	// Enabled: a disabled mapping reads nothing. Default true.
	Enabled *bool
	// Metrics are the mapping's metrics, such as "EventCount".
	Metrics []types.EventSourceMappingMetric
}

// known lists the properties the resource accepts (package contract's), and those CloudFormation adds itself.
var known = func() map[string]bool {
	m := map[string]bool{"ServiceToken": true, "ServiceTimeout": true}
	for _, p := range contract.SubscriptionProperties {
		m[p] = true
	}
	return m
}()

// PropertyError names a property that could not be used, its value and why.
type PropertyError struct {
	// Property is the property's name.
	Property string
	// Value is the value CloudFormation sent.
	Value any
	// Reason says what the value must be.
	Reason string
}

// Error names the property, its value and what it must be.
func (e *PropertyError) Error() string {
	return fmt.Sprintf("property %s = %q: %s", e.Property, fmt.Sprint(e.Value), e.Reason)
}

// ParseProperties reads the resource properties CloudFormation sends (every scalar a string; numbers and booleans
// are accepted as such too). The first problem found is returned as a [*PropertyError].
func ParseProperties(raw map[string]any) (Properties, error) {
	p := parser{raw: raw}
	var unknown []string
	for k := range raw {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Properties{}, &PropertyError{"(unknown)", strings.Join(unknown, ","), "not a property of Custom::EventlakeSubscription"}
	}
	out := Properties{
		FunctionName:   p.str(contract.PropFunctionName, true),
		EventSourceArn: p.str(contract.PropEventSourceArn, true),
	}
	if p.err == nil {
		if a, err := arn.Parse(out.EventSourceArn); err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") {
			p.fail(contract.PropEventSourceArn, out.EventSourceArn, "must be the ARN of a Kinesis stream or stream consumer")
		}
	}
	out.BatchSize = p.int32(contract.PropBatchSize, MinBatchSize, MaxBatchSize)
	out.MaximumBatchingWindowInSeconds = p.int32(contract.PropMaximumBatchingWindowInSeconds, 0, MaxBatchingWindowSeconds)
	switch pos := p.str(contract.PropStartingPosition, false); pos {
	case "":
		out.StartingPosition = types.EventSourcePositionTrimHorizon
	case "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP":
		out.StartingPosition = types.EventSourcePosition(pos)
	default:
		p.fail(contract.PropStartingPosition, pos, "must be TRIM_HORIZON, LATEST or AT_TIMESTAMP")
	}
	if ts := p.str(contract.PropStartingPositionTimestamp, false); ts != "" {
		t, err := parseTime(ts)
		if err != nil {
			p.fail(contract.PropStartingPositionTimestamp, ts, "must be an RFC 3339 time or epoch seconds")
		}
		out.StartingPositionTimestamp = &t
	}
	if p.err == nil && (out.StartingPosition == types.EventSourcePositionAtTimestamp) != (out.StartingPositionTimestamp != nil) {
		p.fail(contract.PropStartingPositionTimestamp, p.raw[contract.PropStartingPositionTimestamp], "is required with StartingPosition AT_TIMESTAMP, and only with it")
	}
	out.ParallelizationFactor = p.int32(contract.PropParallelizationFactor, MinParallelization, MaxParallelization)
	out.BisectBatchOnFunctionError = p.bool(contract.PropBisectBatchOnFunctionError)
	out.MaximumRetryAttempts = p.int32(contract.PropMaximumRetryAttempts, -1, MaxRetryAttempts)
	out.MaximumRecordAgeInSeconds = p.int32(contract.PropMaximumRecordAgeInSeconds, -1, MaxRecordAgeSeconds)
	if v := out.MaximumRecordAgeInSeconds; v != nil && *v != -1 && *v < MinRecordAgeSeconds {
		p.fail(contract.PropMaximumRecordAgeInSeconds, *v, fmt.Sprintf("must be -1 (infinite) or %d to %d", MinRecordAgeSeconds, MaxRecordAgeSeconds))
	}
	if d := p.str(contract.PropOnFailureDestination, false); d != "" {
		a, err := arn.Parse(d)
		if err != nil || (a.Service != "sqs" && a.Service != "sns" && a.Service != "s3") {
			p.fail(contract.PropOnFailureDestination, d, "must be the ARN of an SQS queue, an SNS topic or an S3 bucket")
		}
		out.OnFailureDestination = d
	}
	out.ReportBatchItemFailures = p.bool(contract.PropReportBatchItemFailures)
	for i, f := range p.list(contract.PropFilterPatterns) {
		if !json.Valid([]byte(f)) {
			p.fail(fmt.Sprintf("%s[%d]", contract.PropFilterPatterns, i), f, "must be a JSON filter pattern")
		}
		out.FilterPatterns = append(out.FilterPatterns, f)
	}
	out.TumblingWindowInSeconds = p.int32(contract.PropTumblingWindowInSeconds, 0, MaxTumblingWindowSeconds)
	out.Enabled = p.bool(contract.PropEnabled)
	for _, m := range p.list(contract.PropMetrics) {
		if m != string(types.EventSourceMappingMetricEventCount) && m != string(types.EventSourceMappingMetricErrorCount) {
			p.fail(contract.PropMetrics, m, "must be EventCount or ErrorCount")
		}
		out.Metrics = append(out.Metrics, types.EventSourceMappingMetric(m))
	}
	return out, p.err
}

// IsConsumer reports whether the source is an enhanced fan-out stream consumer.
func (p Properties) IsConsumer() bool { return strings.Contains(p.EventSourceArn, "/consumer/") }

type parser struct {
	raw map[string]any
	err error
}

func (p *parser) fail(prop string, value any, reason string) {
	if p.err == nil {
		p.err = &PropertyError{prop, value, reason}
	}
}

func (p *parser) str(name string, required bool) string {
	v, ok := p.raw[name]
	if !ok || v == nil {
		if required {
			p.fail(name, "", "is required")
		}
		return ""
	}
	switch v := v.(type) {
	case string:
		if required && v == "" {
			p.fail(name, v, "is required")
		}
		return v
	case float64, bool:
		return fmt.Sprint(v)
	}
	p.fail(name, v, "must be a string")
	return ""
}

func (p *parser) int32(name string, min, max int64) *int32 {
	s := p.str(name, false)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
	if err != nil {
		p.fail(name, s, "must be a whole number")
		return nil
	}
	if n < min || n > max {
		p.fail(name, s, fmt.Sprintf("must be from %d to %d", min, max))
		return nil
	}
	return aws.Int32(int32(n))
}

func (p *parser) bool(name string) *bool {
	s := p.str(name, false)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(name, s, "must be true or false")
		return nil
	}
	return &b
}

func (p *parser) list(name string) []string {
	v, ok := p.raw[name]
	if !ok || v == nil {
		return nil
	}
	items, ok := v.([]any)
	if !ok {
		p.fail(name, v, "must be a list of strings")
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			p.fail(fmt.Sprintf("%s[%d]", name, i), it, "must be a string")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(0, int64(secs*float64(time.Second))).UTC(), nil
}
