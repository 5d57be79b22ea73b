package replay_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

// invokeAPI stands in for the Lambda Invoke API: it records each invocation's type and payload size, answers the
// first call 429 (throttled), and answers a function error to RequestResponse payloads of partition key k9.
type invokeAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []struct {
		typ  string
		size int
	}
	throttled bool
}

func newInvokeAPI(t *testing.T) *invokeAPI {
	a := &invokeAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		typ := r.Header.Get("X-Amz-Invocation-Type")
		a.mu.Lock()
		if !a.throttled {
			a.throttled = true
			a.mu.Unlock()
			w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","message":"Rate Exceeded."}`)
			return
		}
		a.calls = append(a.calls, struct {
			typ  string
			size int
		}{typ, len(body)})
		a.mu.Unlock()
		switch {
		case typ == "Event":
			w.WriteHeader(http.StatusAccepted)
		case strings.Contains(string(body), `"partitionKey":"k9"`): // data is base64 in the payload; the key is not
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			fmt.Fprint(w, `{"errorMessage":"boom","errorType":"Error"}`)
		default:
			fmt.Fprint(w, `null`)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func TestInvocationTypesAndPayloadSizes(t *testing.T) {
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	bucket := fmt.Sprintf("sizes-%d", time.Now().UnixNano())
	s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket})
	// 60 small events, one of 20 KB (over the 8 KB async limit of this test), and one whose function call fails.
	var lines []string
	for i := range 60 {
		lines = append(lines, line(i+1, fmt.Sprintf("k%d", i%3), fmt.Sprintf("s%d", i), "t"))
	}
	lines = append(lines, strings.Replace(line(100, "k0", "big", "t"), `"type":"t"`, `"type":"t","pad":"`+strings.Repeat("p", 20000)+`"`, 1))
	lines = append(lines, strings.Replace(line(101, "k9", "fail-me", "t"), `"type":"t"`, `"type":"t","pad":"`+strings.Repeat("q", 20000)+`"`, 1))
	s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("events/2026/01/01/00/o"), Body: strings.NewReader(strings.Join(lines, "\n"))})

	api := newInvokeAPI(t)
	lc := lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(api.URL),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 5})
	const asyncLimit = 8 << 10
	sum, err := replay.Run(context.Background(), s3c, &replay.FunctionTarget{Client: lc, Function: "target", AsyncLimit: asyncLimit},
		replay.Options{Bucket: bucket, Prefix: "events/", Concurrency: 1, BatchSize: 100, AsyncLimit: asyncLimit}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var events, sync, dryRuns int
	for _, c := range api.calls {
		switch c.typ {
		case "Event":
			events++
			if c.size > asyncLimit {
				t.Errorf("Event invocation of %d bytes, over the %d-byte async limit", c.size, asyncLimit)
			}
		case "DryRun":
			dryRuns++
			if c.size != 0 {
				t.Errorf("the DryRun check carried a payload of %d bytes", c.size)
			}
		case "RequestResponse":
			sync++
			if c.size <= asyncLimit || c.size > replay.SyncLimit {
				t.Errorf("RequestResponse invocation of %d bytes: only for payloads over %d and up to %d", c.size, asyncLimit, replay.SyncLimit)
			}
		default:
			t.Errorf("invocation type %q", c.typ)
		}
	}
	if dryRuns != 1 || api.calls[0].typ != "DryRun" {
		t.Errorf("%d DryRun checks (first call %s); want one, before any delivery", dryRuns, api.calls[0].typ)
	}
	if events < 2 || sync != 2 {
		t.Errorf("%d Event and %d RequestResponse invocations; want the small events packed into several Event calls and the two big ones alone", events, sync)
	}
	if sum.Failed != 1 || sum.Delivered != 61 || sum.Read != 62 || !strings.Contains(strings.Join(sum.Problems, " "), "function error Unhandled") {
		t.Errorf("summary %+v: the function error must count as one failed event", sum)
	}
	if !api.throttled {
		t.Error("the throttled first call was never made")
	}
}
