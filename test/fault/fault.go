// Package fault injects failures into the calls of an AWS SDK for Go v2 client, for the errors a test server such as
// moto never produces: throttling, service errors, partial failures.
//
// An [Injector] is installed through a client's APIOptions. For the calls it picks it answers in place of the
// server, at the bottom of the middleware stack, where the HTTP client would be called; every other call goes
// through to the real server. A [Fault] that answers with an HTTP response ([JSONError], [JSON]) is read by the
// SDK's own deserializer, and the SDK's retryer judges the resulting error, exactly as if AWS had sent the response:
//
//	inj := &fault.Injector{
//		Operation: "CreateEventSourceMapping",
//		Times:     2,
//		Fault:     fault.JSONError(429, "TooManyRequestsException", "Rate exceeded"),
//	}
//	client := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
//		o.APIOptions = append(o.APIOptions, inj.Install)
//	})
//	// ... the first two attempts of CreateEventSourceMapping get a 429; inj.Injected() == 2
//
// Every attempt is a call of its own: a call the retryer repeats passes through the injector again.
package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A Fault is what an intercepted call gets instead of the server's answer. An HTTP response goes through the SDK's
// deserializer as if the server had sent it; an error is the attempt's error as it is, seen by the retryer without
// any HTTP response (use [JSONError] for an error as AWS sends it). req is the signed request the server would have
// got.
type Fault func(req *http.Request) (*http.Response, error)

// APIError returns a Fault that fails the call with a [smithy.GenericAPIError] of the code and message, without an
// HTTP response: a retryer sees only the error code, not the HTTP status.
func APIError(code, message string) Fault {
	return func(*http.Request) (*http.Response, error) {
		return nil, &smithy.GenericAPIError{Code: code, Message: message}
	}
}

// JSONError returns a Fault that answers with an AWS JSON-protocol error (restJson1, awsJson1_0 and awsJson1_1, as
// Lambda, DynamoDB, Kinesis, SQS or Step Functions use): the HTTP status, the error code in the X-Amzn-ErrorType
// header and in the body's __type, and the message. The SDK makes of it the service's modelled error type when it
// knows the code (such as *types.InvalidParameterValueException for Lambda), and a [smithy.GenericAPIError]
// otherwise, wrapped in an error that carries the HTTP status.
func JSONError(status int, code, message string) Fault {
	body, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	h := http.Header{"X-Amzn-Errortype": {code}}
	return response(status, h, string(body))
}

// JSON returns a Fault that answers with the HTTP status and the JSON body, for answers that are not errors, such
// as a BatchWriteItem with UnprocessedItems or a PutRecords with a failed record.
func JSON(status int, body string) Fault {
	return response(status, http.Header{}, body)
}

func response(status int, h http.Header, body string) Fault {
	return func(req *http.Request) (*http.Response, error) {
		header := h.Clone()
		header.Set("Content-Type", "application/json")
		header.Set("X-Amzn-Requestid", "fault-injected")
		return &http.Response{
			Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
			StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: header, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
			Request: req,
		}, nil
	}
}

// Call is one attempt of an operation, as [Injector.Match] sees it.
type Call struct {
	// Operation is the operation's name, such as "CreateEventSourceMapping".
	Operation string
	// Input is the operation's input, such as *lambda.CreateEventSourceMappingInput.
	Input any
	// N counts the calls of the Injector's Operation: 1 for the first the Injector saw, 2 for the next, and so on.
	N int
}

// Injector injects a Fault into calls of one operation. Install it with a client's APIOptions. Its fields must not
// change once it is installed; it is safe for concurrent calls.
type Injector struct {
	// Operation is the name of the operation whose calls get the Fault, such as "CreateEventSourceMapping". Empty
	// means every operation.
	Operation string
	// Match, if set, picks the calls of Operation that get the Fault. It is called for every call of Operation
	// (if there is a Fault), with the Injector's lock held, one call at a time, so it may keep state of its own
	// without a lock.
	Match func(Call) bool
	// Times limits the Fault to the first Times calls picked (of Operation, and by Match if set). Zero means every
	// call picked.
	Times int
	// Fault is what the calls picked get. Without a Fault the Injector only counts.
	Fault Fault

	mu       sync.Mutex
	calls    int
	injected int
}

// inputKey is the stack value under which Install keeps the operation's input for Match.
type inputKey struct{}

// Install adds the Injector to a client's middleware stack; pass it as an APIOptions entry (its signature is that
// of one). It answers at the innermost point of the deserialize step, where the HTTP client would be called, so
// signing, retries, deserialization and error wrapping all run as for a real answer.
func (i *Injector) Install(stack *middleware.Stack) error {
	const keep = "fault.KeepInput"
	if _, ok := stack.Initialize.Get(keep); !ok {
		err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc(keep, func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, inputKey{}, in.Parameters), in)
		}), middleware.After)
		if err != nil {
			return fmt.Errorf("fault: add %s: %w", keep, err)
		}
	}
	id := fmt.Sprintf("fault.Inject(%s)@%p", i.Operation, i)
	err := stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc(id, func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
		if !i.pick(ctx) {
			return next.HandleDeserialize(ctx, in)
		}
		req, ok := in.Request.(*smithyhttp.Request)
		if !ok {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, fmt.Errorf("fault: request of type %T, want *smithyhttp.Request", in.Request)
		}
		resp, err := i.Fault(req.Build(ctx))
		if err != nil {
			return middleware.DeserializeOutput{}, middleware.Metadata{}, err
		}
		return middleware.DeserializeOutput{RawResponse: &smithyhttp.Response{Response: resp}}, middleware.Metadata{}, nil
	}), middleware.After)
	if err != nil {
		return fmt.Errorf("fault: add %s: %w", id, err)
	}
	return nil
}

// pick counts the call and reports whether it gets the Fault.
func (i *Injector) pick(ctx context.Context) bool {
	op := middleware.GetOperationName(ctx)
	if i.Operation != "" && op != i.Operation {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.calls++
	if i.Fault == nil {
		return false
	}
	if i.Match != nil && !i.Match(Call{Operation: op, Input: middleware.GetStackValue(ctx, inputKey{}), N: i.calls}) {
		return false
	}
	if i.Times > 0 && i.injected >= i.Times {
		return false
	}
	i.injected++
	return true
}

// Calls returns how many calls of Operation the Injector has seen, with a Fault or without.
func (i *Injector) Calls() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.calls
}

// Injected returns how many calls got the Fault.
func (i *Injector) Injected() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.injected
}
