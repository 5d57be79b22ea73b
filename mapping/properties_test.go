package mapping_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/mapping"
)

const someStream = "arn:aws:kinesis:us-east-1:123456789012:stream/events"

// declared is a resource's properties as CloudFormation sends them: the function, the stream, and extra pairs.
func declared(extra ...any) map[string]any {
	p := map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "FunctionName": "fn", "EventSourceArn": someStream}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i].(string)] = extra[i+1]
	}
	return p
}

// refused checks that ParseProperties refuses the properties with a *PropertyError whose message is want.
func refused(t *testing.T, raw map[string]any, property, want string) {
	t.Helper()
	_, err := mapping.ParseProperties(raw)
	var pe *mapping.PropertyError
	if !errors.As(err, &pe) || pe.Property != property || err.Error() != want {
		t.Errorf("%v: %v; want %s refused: %q", raw, err, property, want)
	}
}

// TestPropertyLimits: every numeric property is accepted at both ends of Lambda's range and refused one past either
// end, with an error naming the property, the value and the range.
func TestPropertyLimits(t *testing.T) {
	cases := []struct {
		prop     string
		min, max int64
		get      func(mapping.Properties) *int32
	}{
		{"BatchSize", mapping.MinBatchSize, mapping.MaxBatchSize, func(p mapping.Properties) *int32 { return p.BatchSize }},
		{"MaximumBatchingWindowInSeconds", 0, mapping.MaxBatchingWindowSeconds, func(p mapping.Properties) *int32 { return p.MaximumBatchingWindowInSeconds }},
		{"ParallelizationFactor", mapping.MinParallelization, mapping.MaxParallelization, func(p mapping.Properties) *int32 { return p.ParallelizationFactor }},
		{"MaximumRetryAttempts", -1, mapping.MaxRetryAttempts, func(p mapping.Properties) *int32 { return p.MaximumRetryAttempts }},
		{"MaximumRecordAgeInSeconds", -1, mapping.MaxRecordAgeSeconds, func(p mapping.Properties) *int32 { return p.MaximumRecordAgeInSeconds }},
		{"TumblingWindowInSeconds", 0, mapping.MaxTumblingWindowSeconds, func(p mapping.Properties) *int32 { return p.TumblingWindowInSeconds }},
	}
	// Lambda's limits for Kinesis, as documented.
	want := map[string][2]int64{"BatchSize": {1, 10000}, "MaximumBatchingWindowInSeconds": {0, 300}, "ParallelizationFactor": {1, 10},
		"MaximumRetryAttempts": {-1, 10000}, "MaximumRecordAgeInSeconds": {-1, 604800}, "TumblingWindowInSeconds": {0, 900}}
	for _, c := range cases {
		t.Run(c.prop, func(t *testing.T) {
			if lim := want[c.prop]; c.min != lim[0] || c.max != lim[1] {
				t.Errorf("limits %d to %d, want %d to %d", c.min, c.max, lim[0], lim[1])
			}
			for _, v := range []int64{c.min, c.max} {
				p, err := mapping.ParseProperties(declared(c.prop, fmt.Sprint(v)))
				if err != nil || c.get(p) == nil || int64(*c.get(p)) != v {
					t.Errorf("%s = %d: %v, %v; want it accepted", c.prop, v, c.get(p), err)
				}
			}
			for _, v := range []int64{c.min - 1, c.max + 1} {
				refused(t, declared(c.prop, fmt.Sprint(v)), c.prop, fmt.Sprintf("property %s = %q: must be from %d to %d", c.prop, fmt.Sprint(v), c.min, c.max))
			}
		})
	}
	// MaximumRecordAgeInSeconds is -1 (infinite) or 60 and more.
	for _, v := range []string{"-1", "60"} {
		if _, err := mapping.ParseProperties(declared("MaximumRecordAgeInSeconds", v)); err != nil {
			t.Errorf("MaximumRecordAgeInSeconds = %s: %v", v, err)
		}
	}
	for _, v := range []string{"0", "59"} {
		refused(t, declared("MaximumRecordAgeInSeconds", v), "MaximumRecordAgeInSeconds",
			fmt.Sprintf("property MaximumRecordAgeInSeconds = %q: must be -1 (infinite) or 60 to 604800", v))
	}
}

// TestPropertiesAsCloudFormationSendsThem: every scalar comes as a string (numbers and booleans are taken as such
// too), lists as lists of strings; what is not set stays unset.
func TestPropertiesAsCloudFormationSendsThem(t *testing.T) {
	p, err := mapping.ParseProperties(declared("BatchSize", " 250 ", "ParallelizationFactor", float64(2), "BisectBatchOnFunctionError", "true",
		"ReportBatchItemFailures", true, "Enabled", "false", "StartingPosition", "LATEST", "Metrics", []any{"EventCount", "ErrorCount"},
		"FilterPatterns", []any{`{"data":{"type":["a"]}}`, `{"data":{"type":["b"]}}`}, "OnFailureDestination", "arn:aws:sns:us-east-1:123456789012:failed",
		"ServiceTimeout", "300"))
	if err != nil {
		t.Fatal(err)
	}
	if *p.BatchSize != 250 || *p.ParallelizationFactor != 2 || !*p.BisectBatchOnFunctionError || !*p.ReportBatchItemFailures || *p.Enabled ||
		p.StartingPosition != types.EventSourcePositionLatest || p.OnFailureDestination != "arn:aws:sns:us-east-1:123456789012:failed" ||
		!reflect.DeepEqual(p.Metrics, []types.EventSourceMappingMetric{"EventCount", "ErrorCount"}) ||
		!reflect.DeepEqual(p.FilterPatterns, []string{`{"data":{"type":["a"]}}`, `{"data":{"type":["b"]}}`}) {
		t.Errorf("parsed %+v", p)
	}
	if p.IsConsumer() {
		t.Error("a stream is no consumer")
	}

	p, err = mapping.ParseProperties(declared("EventSourceArn", someStream+"/consumer/fanout:1795000000"))
	if err != nil || !p.IsConsumer() {
		t.Errorf("a stream consumer: %+v, %v", p, err)
	}

	p, err = mapping.ParseProperties(declared())
	if err != nil || p.BatchSize != nil || p.MaximumRetryAttempts != nil || p.Enabled != nil || p.BisectBatchOnFunctionError != nil ||
		p.FilterPatterns != nil || p.Metrics != nil || p.StartingPosition != types.EventSourcePositionTrimHorizon || p.StartingPositionTimestamp != nil {
		t.Errorf("nothing declared: %+v, %v; want everything unset, from TRIM_HORIZON", p, err)
	}
}

// TestStartingPositionTimestamp: RFC 3339 or epoch seconds (with a fraction), with AT_TIMESTAMP and only with it.
func TestStartingPositionTimestamp(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-11-21T09:30:00Z":      time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		"2026-11-21T10:30:00+01:00": time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
		"1795000000":                time.Unix(1795000000, 0),
		"1795000000.5":              time.Unix(1795000000, 500_000_000),
	} {
		p, err := mapping.ParseProperties(declared("StartingPosition", "AT_TIMESTAMP", "StartingPositionTimestamp", in))
		if err != nil || p.StartingPosition != types.EventSourcePositionAtTimestamp || p.StartingPositionTimestamp == nil || !p.StartingPositionTimestamp.Equal(want) {
			t.Errorf("%s: %+v, %v; want AT_TIMESTAMP %s", in, p.StartingPositionTimestamp, err, want)
		}
	}
	refused(t, declared("StartingPosition", "AT_TIMESTAMP", "StartingPositionTimestamp", "yesterday"), "StartingPositionTimestamp",
		`property StartingPositionTimestamp = "yesterday": must be an RFC 3339 time or epoch seconds`)
	refused(t, declared("StartingPosition", "AT_TIMESTAMP"), "StartingPositionTimestamp",
		`property StartingPositionTimestamp = "<nil>": is required with StartingPosition AT_TIMESTAMP, and only with it`)
	refused(t, declared("StartingPosition", "LATEST", "StartingPositionTimestamp", "1795000000"), "StartingPositionTimestamp",
		`property StartingPositionTimestamp = "1795000000": is required with StartingPosition AT_TIMESTAMP, and only with it`)
	refused(t, declared("StartingPosition", "EARLIEST"), "StartingPosition", `property StartingPosition = "EARLIEST": must be TRIM_HORIZON, LATEST or AT_TIMESTAMP`)
}

// TestBadPropertiesAreNamed: the first property that cannot be used is named with its value and what it must be.
func TestBadPropertiesAreNamed(t *testing.T) {
	cases := []struct {
		raw            map[string]any
		property, want string
	}{
		{declared("Batchsize", "10", "Enable", "true"), "(unknown)", `property (unknown) = "Batchsize,Enable": not a property of Custom::EventlakeSubscription`},
		{declared("FunctionName", ""), "FunctionName", `property FunctionName = "": is required`},
		{declared("FunctionName", nil), "FunctionName", `property FunctionName = "": is required`},
		{declared("FunctionName", map[string]any{"Ref": "Fn"}), "FunctionName", `property FunctionName = "map[Ref:Fn]": must be a string`},
		{declared("EventSourceArn", "arn:aws:kinesis:us-east-1:123456789012:table/events"), "EventSourceArn",
			`property EventSourceArn = "arn:aws:kinesis:us-east-1:123456789012:table/events": must be the ARN of a Kinesis stream or stream consumer`},
		{declared("EventSourceArn", "events"), "EventSourceArn", `property EventSourceArn = "events": must be the ARN of a Kinesis stream or stream consumer`},
		{declared("BatchSize", "1.5"), "BatchSize", `property BatchSize = "1.5": must be a whole number`},
		{declared("BatchSize", "4294967396"), "BatchSize", `property BatchSize = "4294967396": must be a whole number`},
		{declared("Enabled", "yes please"), "Enabled", `property Enabled = "yes please": must be true or false`},
		{declared("OnFailureDestination", "arn:aws:lambda:us-east-1:123456789012:function:dlq"), "OnFailureDestination",
			`property OnFailureDestination = "arn:aws:lambda:us-east-1:123456789012:function:dlq": must be the ARN of an SQS queue, an SNS topic or an S3 bucket`},
		{declared("OnFailureDestination", "failed-queue"), "OnFailureDestination",
			`property OnFailureDestination = "failed-queue": must be the ARN of an SQS queue, an SNS topic or an S3 bucket`},
		{declared("FilterPatterns", []any{`{"a":1}`, `{"b":`}), "FilterPatterns[1]", `property FilterPatterns[1] = "{\"b\":": must be a JSON filter pattern`},
		{declared("FilterPatterns", `{"a":1}`), "FilterPatterns", `property FilterPatterns = "{\"a\":1}": must be a list of strings`},
		{declared("Metrics", []any{"EventCount", 3.0}), "Metrics[1]", `property Metrics[1] = "3": must be a string`},
		{declared("Metrics", []any{"Lag"}), "Metrics", `property Metrics = "Lag": must be EventCount or ErrorCount`},
		// The first problem is the one named.
		{declared("BatchSize", "0", "ParallelizationFactor", "11"), "BatchSize", `property BatchSize = "0": must be from 1 to 10000`},
	}
	for _, c := range cases {
		refused(t, c.raw, c.property, c.want)
	}
	for _, d := range []string{"arn:aws:sqs:us-east-1:123456789012:failed", "arn:aws:sns:us-east-1:123456789012:failed", "arn:aws:s3:::failed-records"} {
		if _, err := mapping.ParseProperties(declared("OnFailureDestination", d)); err != nil {
			t.Errorf("OnFailureDestination %s: %v", d, err)
		}
	}
}
