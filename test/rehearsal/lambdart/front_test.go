package lambdart

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/moto"
)

// serveFront serves a front of fns, proxying to upstream, and returns an AWS SDK Lambda client pointed at it.
func serveFront(t *testing.T, fns Functions, upstream string) (*Front, *lambda.Client) {
	t.Helper()
	front, err := NewFront(fns, upstream)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	t.Cleanup(func() {
		front.Close()
		srv.Close()
	})
	client := lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		RetryMaxAttempts: 1,
	})
	return front, client
}

func TestFrontUnknownFunctionIsResourceNotFound(t *testing.T) {
	_, client := serveFront(t, Functions{}, "")
	ctx := context.Background()
	for _, tc := range []struct{ name, want string }{
		{"nope", "arn:aws:lambda:us-east-1:123456789012:function:nope"},
		{"nope:live", "arn:aws:lambda:us-east-1:123456789012:function:nope:live"},
		{"arn:aws:lambda:eu-west-1:111111111111:function:nope", "arn:aws:lambda:eu-west-1:111111111111:function:nope"},
		{"222222222222:function:nope", "arn:aws:lambda:us-east-1:222222222222:function:nope"},
	} {
		for _, typ := range []types.InvocationType{types.InvocationTypeRequestResponse, types.InvocationTypeEvent, types.InvocationTypeDryRun} {
			_, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(tc.name), InvocationType: typ})
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Errorf("%s %s: got %v, want *types.ResourceNotFoundException", typ, tc.name, err)
				continue
			}
			if nf.ErrorMessage() != "Function not found: "+tc.want || aws.ToString(nf.Type) != "User" {
				t.Errorf("%s %s: message %q type %q, want %q", typ, tc.name, nf.ErrorMessage(), aws.ToString(nf.Type), "Function not found: "+tc.want)
			}
		}
	}
}

func TestFrontRequestResponse(t *testing.T) {
	fn := newFunction(t, Config{Name: "worker"})
	_, client := serveFront(t, Functions{"worker": fn, "worker:live": fn}, "")
	ctx := context.Background()

	// a name, an ARN, a qualified name and a Qualifier all run the function
	for _, in := range []*lambda.InvokeInput{
		{FunctionName: aws.String("worker")},
		{FunctionName: aws.String(fn.ARN())},
		{FunctionName: aws.String("worker:live")},
		{FunctionName: aws.String("worker"), Qualifier: aws.String("$LATEST")},
		{FunctionName: aws.String(fn.ARN() + ":live")},
	} {
		in.Payload = []byte(`{"action":"echo","echo":{"a":[1,2]}}`)
		out, err := client.Invoke(ctx, in)
		if err != nil {
			t.Fatalf("%s: %v", aws.ToString(in.FunctionName), err)
		}
		if out.StatusCode != 200 || string(out.Payload) != `{"a":[1,2]}` || out.FunctionError != nil || aws.ToString(out.ExecutedVersion) != "$LATEST" {
			t.Errorf("%s: %d %s error=%v version=%v", aws.ToString(in.FunctionName), out.StatusCode, out.Payload,
				aws.ToString(out.FunctionError), aws.ToString(out.ExecutedVersion))
		}
	}
	// an unknown qualifier is not found
	if _, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker:other")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("worker:other: got %v, want not found", err)
	}

	// the function sees the ARN it was invoked by and the client context
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker:live"), ClientContext: &cc,
		Payload: []byte(`{"action":"context"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID     string            `json:"requestId"`
		InvokedARN    string            `json:"invokedArn"`
		ClientContext map[string]string `json:"clientContext"`
	}
	json.Unmarshal(out.Payload, &got)
	if got.InvokedARN != fn.ARN()+":live" || got.ClientContext["k"] != "v" {
		t.Errorf("context %+v", got)
	}
	// and the invoker gets the invocation's request id, as from Lambda
	if id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); id == "" || id != got.RequestID {
		t.Errorf("request id %q to the invoker, %q to the function", id, got.RequestID)
	}

	// a function error is a 200 with X-Amz-Function-Error and the error body
	out, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), Payload: []byte(`{"action":"error","message":"bad"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ ErrorType, ErrorMessage string }
	json.Unmarshal(out.Payload, &body)
	if out.StatusCode != 200 || aws.ToString(out.FunctionError) != "Unhandled" || body.ErrorType != "TestError" || body.ErrorMessage != "bad" {
		t.Errorf("function error: %d %v %s", out.StatusCode, aws.ToString(out.FunctionError), out.Payload)
	}

	// so is a crash, with Lambda's Runtime.ExitError
	out, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), Payload: []byte(`{"action":"exit","code":5}`)})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(out.Payload, &body)
	if aws.ToString(out.FunctionError) != "Unhandled" || body.ErrorType != ErrorTypeExit || !strings.HasSuffix(body.ErrorMessage, "exit status 5") {
		t.Errorf("crash: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}

	// the log tail is the invocation's
	out, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), LogType: types.LogTypeTail,
		Payload: []byte(`{"action":"log","message":"tail me"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), "tail me") || !strings.Contains(string(tail), "REPORT RequestId: ") || strings.Contains(string(tail), "exit status 5") {
		t.Errorf("log tail:\n%s", tail)
	}

	// a payload that is not JSON is refused, as Lambda refuses it
	_, err = client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), Payload: []byte(`not json`)})
	if !errors.As(err, new(*types.InvalidRequestContentException)) {
		t.Errorf("payload not JSON: got %v, want InvalidRequestContentException", err)
	}
}

func TestFrontEventRunsLaterInOrder(t *testing.T) {
	fn := newFunction(t, Config{Name: "worker"})
	front, client := serveFront(t, Functions{"worker": fn}, "")
	ctx := context.Background()

	// WHEN events are sent, the first one slow
	start := time.Now()
	for _, p := range []string{`{"action":"sleep","sleep":"2s"}`, `{"action":"log","message":"event-1"}`,
		`{"action":"log","message":"event-2"}`, `{"action":"log","message":"event-3"}`} {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"),
			InvocationType: types.InvocationTypeEvent, Payload: []byte(p)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StatusCode != 202 || len(out.Payload) != 0 {
			t.Errorf("event: %d %q, want 202 and no payload", out.StatusCode, out.Payload)
		}
	}
	// THEN each is accepted at once
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("sending the events took %s: the front waited for them", d)
	}
	// AND they all run, in order
	if err := front.Wait(); err != nil {
		t.Fatal(err)
	}
	logs := fn.Logs()
	i0, i1, i2, i3 := strings.Index(logs, "sleeping 2s"), strings.Index(logs, "event-1"), strings.Index(logs, "event-2"), strings.Index(logs, "event-3")
	if i0 < 0 || !(i0 < i1 && i1 < i2 && i2 < i3) {
		t.Errorf("events out of order (%d %d %d %d):\n%s", i0, i1, i2, i3, logs)
	}
	if s := fn.Stats(); s.Invocations != 4 {
		t.Errorf("%d invocations, want 4", s.Invocations)
	}

	// AND a failed event is reported by Wait
	if _, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"action":"error","message":"async failure"}`)}); err != nil {
		t.Fatal(err)
	}
	var fe *FunctionError
	if err := front.Wait(); !errors.As(err, &fe) || fe.Message != "async failure" {
		t.Errorf("Wait: %v, want the event's function error", err)
	}
	if err := front.Wait(); err != nil {
		t.Errorf("second Wait: %v, want the errors reported once", err)
	}
}

func TestFrontDryRun(t *testing.T) {
	fn := newFunction(t, Config{Name: "worker"})
	_, client := serveFront(t, Functions{"worker": fn}, "")
	out, err := client.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("worker"),
		InvocationType: types.InvocationTypeDryRun, Payload: []byte(`{"action":"log","message":"must not run"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != 204 {
		t.Errorf("dry run: %d, want 204", out.StatusCode)
	}
	if s := fn.Stats(); s.Invocations != 0 {
		t.Errorf("a dry run ran the function (%d invocations)", s.Invocations)
	}
}

func TestFrontProxiesTheRestToUpstream(t *testing.T) {
	cfg := moto.Config(t)
	moto.NewFunction(t, cfg, "in-moto")
	fn := newFunction(t, Config{Name: "worker"})
	_, client := serveFront(t, Functions{"worker": fn}, moto.Endpoint(t))
	ctx := context.Background()

	// moto's functions are listed through the front
	list, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.Functions, func(c types.FunctionConfiguration) bool { return aws.ToString(c.FunctionName) == "in-moto" }) {
		t.Errorf("ListFunctions through the front does not list moto's function: %+v", list.Functions)
	}
	// and so are other calls, with moto's own errors
	got, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("in-moto")})
	if err != nil || aws.ToString(got.Configuration.FunctionName) != "in-moto" {
		t.Errorf("GetFunction through the front: %v", err)
	}
	if _, err := client.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String("in-moto")}); err != nil {
		t.Errorf("ListEventSourceMappings through the front: %v", err)
	}
	if _, err := client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("absent")}); !errors.As(err, new(*types.ResourceNotFoundException)) {
		t.Errorf("GetFunction of an absent function through the front: %v, want moto's ResourceNotFoundException", err)
	}
	// but invocations are the registry's: the front runs its functions, not moto's
	if out, err := client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("worker"), Payload: []byte(`{"action":"echo","echo":1}`)}); err != nil || string(out.Payload) != "1" {
		t.Errorf("invoke of the registry's function: %v", err)
	}
	if fn.Stats().Invocations != 1 {
		t.Errorf("the registry's function ran %d times, want 1", fn.Stats().Invocations)
	}
}

func TestFrontWithoutUpstream(t *testing.T) {
	front, err := NewFront(Functions{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer front.Close()
	rec := httptest.NewRecorder()
	front.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/2015-03-31/functions/", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusNotImplemented {
		t.Errorf("%d %s, want 501", rec.Code, body)
	}
	if _, err := NewFront(Functions{}, "not a url"); err == nil {
		t.Error("an upstream that is no URL was accepted")
	}
}
