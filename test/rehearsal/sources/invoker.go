package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

// Invoker is a function the drivers invoke synchronously, as the Lambda event source mapping service and Firehose
// do. *lambdart.Function satisfies it (the function's own arm64 bootstrap under qemu); tests use fakes.
//
// An error is a failed invocation: the handler's error or panic (*lambdart.FunctionError), or a crash or timeout of
// its process (*lambdart.RuntimeError); any other error is treated the same. An error that comes from the context
// passed to Invoke having ended stops the driver instead.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc adapts a function to Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

var _ Invoker = (*lambdart.Function)(nil)

// Stats counts what an event source mapping driver did. Records counts deliveries: a record handed to the function
// twice counts twice.
type Stats struct {
	// Invocations is how many times the function was invoked.
	Invocations int
	// Records is how many records (messages) those invocations carried.
	Records int
	// Succeeded is how many records were processed for good: checkpointed past (streams) or deleted (SQS).
	Succeeded int
	// Filtered is how many records the filter criteria dropped without invoking the function.
	Filtered int
	// FunctionErrors is how many invocations failed (a handler error, a crash or a timeout).
	FunctionErrors int
	// PartialFailures is how many invocations reported batch item failures.
	PartialFailures int
	// Retries is how many invocations retried records that had already been handed to the function and failed.
	Retries int
	// Bisections is how many times a failed batch was split in two.
	Bisections int
	// FailuresSent is how many invocation records were sent to the on-failure destination (one per batch given up).
	FailuresSent int
	// FailedRecords is how many records those invocation records cover.
	FailedRecords int
	// Expired is how many of FailedRecords were given up for being older than MaximumRecordAgeInSeconds.
	Expired int
	// Left is how many SQS messages were left in the queue after a failed invocation, to be received again after
	// their visibility timeout.
	Left int
}

// errorType is the errorType Lambda reports for a failed invocation, "" for a generic error.
func errorType(err error) string {
	var fe *lambdart.FunctionError
	if errors.As(err, &fe) {
		return fe.Type
	}
	var re *lambdart.RuntimeError
	if errors.As(err, &re) {
		return re.Type
	}
	return ""
}

// requestIDOf returns the request id of a failed invocation when the error carries one, else a new UUID (the
// Invoker interface does not give the request id of a successful invocation).
func requestIDOf(err error) string {
	var fe *lambdart.FunctionError
	if errors.As(err, &fe) && fe.RequestID != "" {
		return fe.RequestID
	}
	var re *lambdart.RuntimeError
	if errors.As(err, &re) && re.RequestID != "" {
		return re.RequestID
	}
	return newUUID()
}

// itemFailures reads a function's response as a partial batch response
// (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html). Lambda treats as a
// complete success an empty or null batchItemFailures list, an empty or null response; as a complete failure an
// itemIdentifier that is empty, null or under another key name. ok is false for a complete failure, with the reason.
// A response that is not a JSON object reports no failure.
func itemFailures(resp []byte) (ids []string, ok bool, reason string) {
	v, valid := decodeJSON(resp)
	if !valid || v == nil {
		return nil, true, ""
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return nil, true, ""
	}
	raw, has := obj["batchItemFailures"]
	if !has || raw == nil {
		return nil, true, ""
	}
	list, isList := raw.([]any)
	if !isList {
		return nil, false, fmt.Sprintf("batchItemFailures is %s, not a list", compact(raw))
	}
	for _, it := range list {
		m, isMap := it.(map[string]any)
		if !isMap {
			return nil, false, fmt.Sprintf("batch item failure %s is not an object", compact(it))
		}
		id, isStr := m["itemIdentifier"].(string)
		if !isStr || id == "" {
			return nil, false, fmt.Sprintf("batch item failure %s has no itemIdentifier", compact(it))
		}
		ids = append(ids, id)
	}
	return ids, true, ""
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
