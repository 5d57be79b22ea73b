package fault_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/fault"
)

// TestHandlerAnswersPickedRequests: the first two POSTs to the event source mappings get a 429 that the AWS SDK
// reads as TooManyRequestsException, as from Lambda; the third and every other request reach the server.
func TestHandlerAnswersPickedRequests(t *testing.T) {
	reached := 0
	server := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"EventSourceMappings":[]}`))
	})
	route := &fault.Route{
		Method: http.MethodPost,
		Match:  func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/event-source-mappings") },
		Times:  2,
		Fault:  fault.JSONError(429, "TooManyRequestsException", "Rate exceeded"),
	}
	srv := httptest.NewServer(fault.Handler(server, route))
	defer srv.Close()
	client := lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	in := &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String("arn:aws:kinesis:us-east-1:1:stream/s")}
	for i := 0; i < 2; i++ {
		_, err := client.CreateEventSourceMapping(ctx, in)
		var throttled *types.TooManyRequestsException
		if !errors.As(err, &throttled) {
			t.Fatalf("attempt %d: %v, want TooManyRequestsException", i+1, err)
		}
	}
	if _, err := client.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{}); err != nil {
		t.Fatalf("a GET is not picked: %v", err)
	}
	client.CreateEventSourceMapping(ctx, in) // the third POST reaches the server
	if route.Calls() != 3 || route.Injected() != 2 || reached != 2 {
		t.Errorf("route picked %d, injected %d; the server got %d requests; want 3, 2 and 2", route.Calls(), route.Injected(), reached)
	}
}

// TestHandlerPicksByBody: a route that picks by the body answers the CreateEventSourceMapping of one function only;
// the Fault and the server read the body the client sent.
func TestHandlerPicksByBody(t *testing.T) {
	var reached []string
	server := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reached = append(reached, string(b))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"UUID":"u"}`))
	})
	var faulted string
	route := &fault.Route{
		Method: http.MethodPost,
		MatchBody: func(_ *http.Request, body []byte) bool {
			return strings.Contains(string(body), `"FunctionName":"picked"`)
		},
		Fault: func(req *http.Request) (*http.Response, error) {
			b, _ := io.ReadAll(req.Body)
			faulted = string(b)
			return fault.JSONError(409, "ResourceConflictException", "exists")(req)
		},
	}
	srv := httptest.NewServer(fault.Handler(server, route))
	defer srv.Close()
	client := lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	source := aws.String("arn:aws:kinesis:us-east-1:1:stream/s")
	_, err := client.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("picked"), EventSourceArn: source})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("the picked function's create: %v, want ResourceConflictException", err)
	}
	if _, err := client.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("other"), EventSourceArn: source}); err != nil {
		t.Errorf("another function's create: %v", err)
	}
	if route.Calls() != 1 || route.Injected() != 1 || len(reached) != 1 || !strings.Contains(reached[0], `"other"`) || !strings.Contains(faulted, `"picked"`) {
		t.Errorf("route picked %d, injected %d; the fault read %q, the server %q", route.Calls(), route.Injected(), faulted, reached)
	}
}
