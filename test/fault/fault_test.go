package fault_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/test/fault"
)

// server stands in for Lambda: every GetEventSourceMapping finds mapping "m-1" in state "Enabled".
func server(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"UUID":"m-1","State":"Enabled"}`))
	}))
	t.Cleanup(s.Close)
	return s, &requests
}

// client returns a Lambda client of the server with the injectors installed and the standard retryer, fast.
func client(url string, injectors ...*fault.Injector) *lambda.Client {
	return lambda.New(lambda.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts, o.MaxBackoff, o.RateLimiter = 5, time.Millisecond, ratelimit.None
		}),
	}, func(o *lambda.Options) {
		for _, inj := range injectors {
			o.APIOptions = append(o.APIOptions, inj.Install)
		}
	})
}

func get(c *lambda.Client) (*lambda.GetEventSourceMappingOutput, error) {
	return c.GetEventSourceMapping(context.Background(), &lambda.GetEventSourceMappingInput{UUID: aws.String("m-1")})
}

func TestRetryableHTTPErrorsAreRetriedThenPassThrough(t *testing.T) {
	for _, status := range []int{429, 500, 503} {
		s, requests := server(t)
		code := map[int]string{429: "TooManyRequestsException", 500: "ServiceException", 503: "ServiceUnavailable"}[status]
		inj := &fault.Injector{Operation: "GetEventSourceMapping", Times: 2, Fault: fault.JSONError(status, code, "injected")}
		out, err := get(client(s.URL, inj))
		if err != nil || aws.ToString(out.UUID) != "m-1" {
			t.Fatalf("%d: got %+v, %v; want the server's answer after two retries", status, out, err)
		}
		if inj.Calls() != 3 || inj.Injected() != 2 || requests.Load() != 1 {
			t.Errorf("%d: %d calls, %d injected, %d reached the server; want 3, 2, 1", status, inj.Calls(), inj.Injected(), requests.Load())
		}
	}
}

func TestJSONErrorIsDeserializedAsTheServiceSendsIt(t *testing.T) {
	s, requests := server(t)
	inj := &fault.Injector{Fault: fault.JSONError(400, "InvalidParameterValueException", "BatchSize must be at most 10000")}
	_, err := get(client(s.URL, inj))
	var invalid *types.InvalidParameterValueException
	if !errors.As(err, &invalid) || invalid.ErrorMessage() != "BatchSize must be at most 10000" {
		t.Fatalf("error %v (%T), want the modelled InvalidParameterValueException with the message", err, err)
	}
	var resp *awshttp.ResponseError
	if !errors.As(err, &resp) || resp.HTTPStatusCode() != 400 || resp.ServiceRequestID() != "fault-injected" {
		t.Errorf("error %v carries no HTTP status 400 and request id", err)
	}
	if inj.Calls() != 1 || requests.Load() != 0 {
		t.Errorf("%d calls, %d at the server; want 1 and 0: a 400 is not retried", inj.Calls(), requests.Load())
	}
}

func TestAPIErrorAndMatch(t *testing.T) {
	s, requests := server(t)
	inj := &fault.Injector{
		Operation: "GetEventSourceMapping",
		Match: func(c fault.Call) bool {
			in, ok := c.Input.(*lambda.GetEventSourceMappingInput)
			return ok && aws.ToString(in.UUID) == "m-1" && c.N == 1
		},
		Fault: fault.APIError("LimitExceededException", "injected limit"),
	}
	other := &fault.Injector{Operation: "ListEventSourceMappings", Fault: fault.APIError("Boom", "never")}
	c := client(s.URL, inj, other)
	if _, err := get(c); err != nil {
		t.Fatalf("LimitExceededException should be retried by the standard retryer: %v", err)
	}
	if inj.Calls() != 2 || inj.Injected() != 1 || other.Calls() != 0 || requests.Load() != 1 {
		t.Errorf("calls %d, injected %d, other operation %d, at the server %d; want 2, 1, 0, 1",
			inj.Calls(), inj.Injected(), other.Calls(), requests.Load())
	}

	noRetry := &fault.Injector{Fault: fault.APIError("ValidationException", "bad")}
	_, err := get(client(s.URL, noRetry))
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "ValidationException" || api.ErrorMessage() != "bad" || noRetry.Calls() != 1 {
		t.Errorf("error %v after %d calls, want ValidationException \"bad\" after 1", err, noRetry.Calls())
	}
}

func TestJSONAnswersInPlaceOfTheServer(t *testing.T) {
	s, requests := server(t)
	counter := &fault.Injector{}
	inj := &fault.Injector{Times: 1, Fault: fault.JSON(200, `{"UUID":"injected","State":"Creating"}`)}
	c := client(s.URL, counter, inj)
	for _, want := range []string{"injected", "m-1"} {
		out, err := get(c)
		if err != nil || aws.ToString(out.UUID) != want {
			t.Errorf("got %+v, %v; want UUID %s", out, err, want)
		}
	}
	if counter.Calls() != 2 || counter.Injected() != 0 || requests.Load() != 1 {
		t.Errorf("counter saw %d calls (%d injected), server %d; want 2 (0), 1", counter.Calls(), counter.Injected(), requests.Load())
	}
}
