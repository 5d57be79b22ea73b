package lambdart

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Error types Lambda reports for failures of the execution environment rather than of the handler.
const (
	// ErrorTypeExit is the errorType of an invocation whose runtime process exited before it answered.
	ErrorTypeExit = "Runtime.ExitError"
	// ErrorTypeTimeout is the errorType of an invocation that ran past the function's timeout.
	ErrorTypeTimeout = "Sandbox.Timedout"
	// ErrorTypeResponseTooLarge is the errorType of an invocation whose response exceeded Lambda's limit.
	ErrorTypeResponseTooLarge = "Function.ResponseSizeTooLarge"
)

// A FunctionError is an error the function's runtime reported for an invocation: what it posted to
// /runtime/invocation/{id}/error (a handler's error, or a panic aws-lambda-go recovered), or an error trailer of a
// streamed response. On AWS the caller of Invoke gets Payload with X-Amz-Function-Error: Unhandled.
type FunctionError struct {
	// RequestID is the invocation's id.
	RequestID string
	// Type is the errorType of the error body, or the Lambda-Runtime-Function-Error-Type header when the body has
	// none.
	Type string
	// Message is the errorMessage of the error body.
	Message string
	// Payload is the error body as the invoker receives it: a JSON object with errorMessage and errorType, and
	// stackTrace when the runtime sent one.
	Payload []byte
}

// Error gives the error type and message.
func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// newFunctionError reads an error body the runtime posted, with the type from its error-type header.
func newFunctionError(requestID, headerType string, body []byte) *FunctionError {
	fe := &FunctionError{RequestID: requestID}
	var parsed struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &parsed) == nil {
		fe.Type, fe.Message, fe.Payload = parsed.Type, parsed.Message, body
		if fe.Type == "" {
			fe.Type = headerType
		}
		return fe
	}
	// Not a JSON object: the invoker still gets one.
	fe.Type, fe.Message = headerType, string(body)
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	fe.Payload = errorPayload(fe.Type, fe.Message)
	return fe
}

// A RuntimeError is a failure of the execution environment rather than an error the runtime reported for the
// invocation: the process exited (Type [ErrorTypeExit]), ran past the function's timeout and was killed
// ([ErrorTypeTimeout]), or reported an initialization error on /runtime/init/error (Type as the runtime reported
// it). The next invocation starts a new process (a cold start).
type RuntimeError struct {
	// Function is the function's name.
	Function string
	// RequestID is the id of the invocation that failed.
	RequestID string
	// Type is the errorType Lambda reports.
	Type string
	// Message is the errorMessage Lambda reports, such as "RequestId: … Error: Runtime exited with error: exit
	// status 2" or "RequestId: … Error: Task timed out after 3.00 seconds".
	Message string
	// Init is true when the process failed before it asked for its first invocation.
	Init bool
	// ExitStatus is how the process ended ("exit status 2", "signal: killed"), empty when it did not end by itself.
	ExitStatus string
	// LogTail is the last lines the process wrote (stdout and stderr, interleaved as written).
	LogTail []string
}

// Error gives the function, the error type and message, and the process's last log lines.
func (e *RuntimeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "function %s: %s: %s", e.Function, e.Type, e.Message)
	if e.Init {
		b.WriteString(" (during init)")
	}
	if len(e.LogTail) > 0 {
		b.WriteString("; last log lines:\n\t")
		b.WriteString(strings.Join(e.LogTail, "\n\t"))
	}
	return b.String()
}

// Payload is the error body Lambda gives the invoker for this failure.
func (e *RuntimeError) Payload() []byte { return errorPayload(e.Type, e.Message) }

func errorPayload(typ, msg string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}{typ, msg})
	return b
}
