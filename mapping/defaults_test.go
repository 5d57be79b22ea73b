package mapping_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// recorder keeps the input of every call of its operation and lets the call through to moto.
func recorder(operation string, into *[]any) *fault.Injector {
	return &fault.Injector{Operation: operation, Fault: fault.JSONError(500, "NeverSent", ""),
		Match: func(c fault.Call) bool { *into = append(*into, c.Input); return false }}
}

// settings is what a mapping's create or update sets, in a form to compare.
type settings struct {
	BatchSize, Window, Parallelization, Retries, RecordAge, Tumbling int32
	Bisect, Enabled                                                  bool
	ResponseTypes                                                    []types.FunctionResponseType
	Destination                                                      *string
	Filters                                                          []string
	Metrics                                                          []types.EventSourceMappingMetric
}

func filterPatterns(f *types.FilterCriteria) []string {
	if f == nil {
		return nil
	}
	out := []string{}
	for _, x := range f.Filters {
		out = append(out, aws.ToString(x.Pattern))
	}
	return out
}

func onFailure(d *types.DestinationConfig) *string {
	if d == nil || d.OnFailure == nil {
		return nil
	}
	return d.OnFailure.Destination
}

func metrics(m *types.EventSourceMappingMetricsConfig) []types.EventSourceMappingMetric {
	if m == nil {
		return nil
	}
	return m.Metrics
}

func createSettings(in *lambda.CreateEventSourceMappingInput) settings {
	return settings{aws.ToInt32(in.BatchSize), aws.ToInt32(in.MaximumBatchingWindowInSeconds), aws.ToInt32(in.ParallelizationFactor),
		aws.ToInt32(in.MaximumRetryAttempts), aws.ToInt32(in.MaximumRecordAgeInSeconds), aws.ToInt32(in.TumblingWindowInSeconds),
		aws.ToBool(in.BisectBatchOnFunctionError), aws.ToBool(in.Enabled), in.FunctionResponseTypes, onFailure(in.DestinationConfig),
		filterPatterns(in.FilterCriteria), metrics(in.MetricsConfig)}
}

func updateSettings(in *lambda.UpdateEventSourceMappingInput) settings {
	return settings{aws.ToInt32(in.BatchSize), aws.ToInt32(in.MaximumBatchingWindowInSeconds), aws.ToInt32(in.ParallelizationFactor),
		aws.ToInt32(in.MaximumRetryAttempts), aws.ToInt32(in.MaximumRecordAgeInSeconds), aws.ToInt32(in.TumblingWindowInSeconds),
		aws.ToBool(in.BisectBatchOnFunctionError), aws.ToBool(in.Enabled), in.FunctionResponseTypes, onFailure(in.DestinationConfig),
		filterPatterns(in.FilterCriteria), metrics(in.MetricsConfig)}
}

// TestUnsetPropertiesGetLambdasDefaults: a subscription that declares only its function and stream gets Lambda's
// defaults for Kinesis (batches of 100, no window, one batch per shard, retried until the records expire, enabled,
// from the trim horizon); one that declares everything gets it; and a property removed from the template is set
// back to its default on update — a destination to none, filters, response types and metrics to empty lists.
func TestUnsetPropertiesGetLambdasDefaults(t *testing.T) {
	var creates, updates []any
	e := newEnv(t, recorder("CreateEventSourceMapping", &creates), recorder("UpdateEventSourceMapping", &updates))
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("defaults-%d", time.Now().UnixNano()))
	bare := map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "FunctionName": fn, "EventSourceArn": e.stream}
	full := props(fn, e.stream, "MaximumBatchingWindowInSeconds", "5", "ParallelizationFactor", "3", "TumblingWindowInSeconds", "60",
		"Enabled", "false", "OnFailureDestination", "arn:aws:sqs:us-east-1:123456789012:failed")
	full["Metrics"], full["FilterPatterns"] = []any{"EventCount"}, []any{`{"data":{"type":["order-placed"]}}`}
	defaults := settings{BatchSize: 100, Window: 0, Parallelization: 1, Retries: -1, RecordAge: -1, Tumbling: 0, Bisect: false, Enabled: true,
		ResponseTypes: []types.FunctionResponseType{}, Metrics: []types.EventSourceMappingMetric{}}
	declared := settings{BatchSize: 50, Window: 5, Parallelization: 3, Retries: 10, RecordAge: 86400, Tumbling: 60, Bisect: true, Enabled: false,
		ResponseTypes: []types.FunctionResponseType{types.FunctionResponseTypeReportBatchItemFailures},
		Destination:   aws.String("arn:aws:sqs:us-east-1:123456789012:failed"), Filters: []string{`{"data":{"type":["order-placed"]}}`},
		Metrics: []types.EventSourceMappingMetric{types.EventSourceMappingMetricEventCount}}

	// GIVEN a subscription created with only its function and stream
	created := e.send(t, cfn.RequestCreate, "", bare, nil)
	if created.Status != cfn.StatusSuccess || len(creates) != 1 {
		t.Fatalf("create answered %s %q after %d creates", created.Status, created.Reason, len(creates))
	}
	in := creates[0].(*lambda.CreateEventSourceMappingInput)
	if got := createSettings(in); !reflect.DeepEqual(got, defaults) || in.StartingPosition != types.EventSourcePositionTrimHorizon {
		t.Errorf("created with %+v from %s, want %+v from TRIM_HORIZON", got, in.StartingPosition, defaults)
	}

	// WHEN every property is declared
	updated := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, full, bare)
	if updated.Status != cfn.StatusSuccess || len(updates) != 1 {
		t.Fatalf("update answered %s %q after %d updates", updated.Status, updated.Reason, len(updates))
	}
	if got := updateSettings(updates[0].(*lambda.UpdateEventSourceMappingInput)); !reflect.DeepEqual(got, declared) {
		t.Errorf("updated with %+v, want %+v", got, declared)
	}

	// AND then removed from the template again
	e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, bare, full)
	if len(updates) != 2 {
		t.Fatalf("%d updates, want 2", len(updates))
	}
	cleared := defaults
	cleared.Destination, cleared.Filters = aws.String(""), []string{}
	if got := updateSettings(updates[1].(*lambda.UpdateEventSourceMappingInput)); !reflect.DeepEqual(got, cleared) {
		t.Errorf("updated with %+v, want every setting back to its default %+v", got, cleared)
	}

	// AND a subscription created with every property declared is created with them
	fn2 := moto.NewFunction(t, e.cfg, fmt.Sprintf("declared-%d", time.Now().UnixNano()))
	full["FunctionName"] = fn2
	if a := e.send(t, cfn.RequestCreate, "", full, nil); a.Status != cfn.StatusSuccess || len(creates) != 2 {
		t.Fatalf("create answered %s %q after %d creates", a.Status, a.Reason, len(creates))
	}
	if got := createSettings(creates[1].(*lambda.CreateEventSourceMappingInput)); !reflect.DeepEqual(got, declared) {
		t.Errorf("created with %+v, want %+v", got, declared)
	}
}

// TestUpdateKeepsAMappingStartingAtTheSameTimestamp: an update that declares the same AT_TIMESTAMP position (the
// same instant, written otherwise) changes the mapping in place; a new timestamp replaces it.
func TestUpdateKeepsAMappingStartingAtTheSameTimestamp(t *testing.T) {
	e := newEnv(t)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("at-%d", time.Now().UnixNano()))
	at := func(ts string, extra ...string) map[string]any {
		return props(fn, e.stream, append([]string{"StartingPosition", "AT_TIMESTAMP", "StartingPositionTimestamp", ts}, extra...)...)
	}
	created := e.send(t, cfn.RequestCreate, "", at("1795000000"), nil)
	if created.Status != cfn.StatusSuccess {
		t.Fatalf("create answered %s: %s", created.Status, created.Reason)
	}

	// WHEN the batch size changes, the timestamp written as RFC 3339
	same := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, at("2026-11-18T11:06:40Z", "BatchSize", "70"), at("1795000000"))

	// THEN the mapping is updated in place
	if same.Status != cfn.StatusSuccess || same.PhysicalResourceID != created.PhysicalResourceID {
		t.Errorf("update answered %s %q: %s; want the mapping %s kept", same.Status, same.PhysicalResourceID, same.Reason, created.PhysicalResourceID)
	}
	if got := e.mapping(t, created.PhysicalResourceID); got == nil || aws.ToInt32(got.BatchSize) != 70 {
		t.Errorf("mapping after update: %+v", got)
	}

	// WHEN the timestamp changes
	moved := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, at("1795003600"), at("1795000000"))

	// THEN the mapping is replaced: the old one deleted first, one left
	if moved.Status != cfn.StatusSuccess || moved.PhysicalResourceID == created.PhysicalResourceID {
		t.Errorf("update answered %s %q: %s; want a new mapping", moved.Status, moved.PhysicalResourceID, moved.Reason)
	}
	if n := len(e.mappingsOnStream(t)); n != 1 {
		t.Errorf("%d mappings on the stream, want 1", n)
	}
}

// TestCreateAdoptsTheMappingOfAFunctionNamedByName: a template may name the function by its name; the existing
// mapping of that function, which Lambda lists with the function's ARN, is adopted. (moto lists a mapping by the
// function as its creator named it, so the existing mapping is made with the name too.)
func TestCreateAdoptsTheMappingOfAFunctionNamedByName(t *testing.T) {
	e := newEnv(t)
	name := fmt.Sprintf("named-%d", time.Now().UnixNano())
	moto.NewFunction(t, e.cfg, name)
	existing, err := lambda.NewFromConfig(e.cfg).CreateEventSourceMapping(context.Background(), &lambda.CreateEventSourceMappingInput{
		FunctionName: &name, EventSourceArn: &e.stream, StartingPosition: types.EventSourcePositionLatest})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(existing.FunctionArn), ":function:"+name) {
		t.Fatalf("the mapping's function is %s, want the ARN of %s", aws.ToString(existing.FunctionArn), name)
	}
	a := e.send(t, cfn.RequestCreate, "", props(name, e.stream), nil)
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != aws.ToString(existing.UUID) {
		t.Errorf("create answered %s %q: %s; want the mapping %s adopted", a.Status, a.PhysicalResourceID, a.Reason, aws.ToString(existing.UUID))
	}
	if n := len(e.mappingsOnStream(t)); n != 1 {
		t.Errorf("%d mappings on the stream, want 1", n)
	}
}
