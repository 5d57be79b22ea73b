// Command fnhandler is a test-only Lambda handler for package lambdart's tests: each event names what it does.
//
//	{"action":"echo","echo":<any JSON>}      answers with the echo value
//	{"action":"env"}                         answers with its environment, as an object
//	{"action":"context"}                     answers with what aws-lambda-go gave it for the invocation
//	{"action":"instance"}                    answers with the process's id (made at init) and its invocation count
//	{"action":"error","message":"…"}         returns a *TestError
//	{"action":"panic","message":"…"}         panics
//	{"action":"exit","code":2}               writes a line to stderr and exits with the code, without answering
//	{"action":"sleep","sleep":"5s"}          sleeps, then answers "slept"
//	{"action":"log","message":"…"}           writes the message to stdout and answers "logged"
//	{"action":"big","size":7000000}          answers with a string of size bytes
//
// FNHANDLER_INIT changes its init: "exit" exits with status 3 before starting the runtime loop; "init-error" posts an
// initialization error to the Runtime API, then exits with status 4.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestError is the error the "error" action returns; aws-lambda-go reports its type name as the errorType.
type TestError struct{ Msg string }

func (e *TestError) Error() string { return e.Msg }

type request struct {
	Action  string          `json:"action"`
	Echo    json.RawMessage `json:"echo"`
	Message string          `json:"message"`
	Code    int             `json:"code"`
	Sleep   string          `json:"sleep"`
	Size    int             `json:"size"`
}

var (
	instance    string
	invocations int
)

func main() {
	switch os.Getenv("FNHANDLER_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init: giving up")
		os.Exit(3)
	case "init-error":
		url := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/init/error"
		req, _ := http.NewRequest(http.MethodPost, url,
			strings.NewReader(`{"errorMessage":"configuration is missing","errorType":"Runtime.TestInitError"}`))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.TestInitError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			fmt.Fprintln(os.Stderr, "init error posted:", resp.Status)
			resp.Body.Close()
		}
		os.Exit(4)
	}
	var b [8]byte
	rand.Read(b[:])
	instance = hex.EncodeToString(b[:])
	fmt.Println("init: instance", instance)
	lambda.Start(handle)
}

func handle(ctx context.Context, req request) (any, error) {
	invocations++
	switch req.Action {
	case "echo":
		return req.Echo, nil
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, nil
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return map[string]any{
			"requestId":     lc.AwsRequestID,
			"invokedArn":    lc.InvokedFunctionArn,
			"clientContext": lc.ClientContext.Custom,
			"deadlineMs":    deadline.UnixMilli(),
			"traceId":       os.Getenv("_X_AMZN_TRACE_ID"),
			"functionName":  lambdacontext.FunctionName,
			"memoryMB":      lambdacontext.MemoryLimitInMB,
		}, nil
	case "instance":
		return map[string]any{"instance": instance, "invocations": invocations}, nil
	case "error":
		return nil, &TestError{Msg: req.Message}
	case "panic":
		panic(req.Message)
	case "exit":
		fmt.Fprintln(os.Stderr, "exiting with", req.Code)
		os.Exit(req.Code)
	case "sleep":
		d, err := time.ParseDuration(req.Sleep)
		if err != nil {
			return nil, err
		}
		fmt.Println("sleeping", d)
		time.Sleep(d)
		return "slept", nil
	case "log":
		fmt.Println(req.Message)
		return "logged", nil
	case "big":
		return strings.Repeat("x", req.Size), nil
	}
	return nil, fmt.Errorf("unknown action %q", req.Action)
}
