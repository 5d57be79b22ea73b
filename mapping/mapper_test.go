package mapping_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eventlake/eventlake/customresource"
	"github.com/eventlake/eventlake/mapping"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

// cloudFormation stands in for CloudFormation's pre-signed response URL: it records every answer.
type cloudFormation struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]cfn.Response // by request id
	failing int32                   // answer 500 to this many PUTs first
}

func newCloudFormation(t testing.TB) *cloudFormation {
	c := &cloudFormation{answers: map[string]cfn.Response{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if atomic.AddInt32(&c.failing, -1) >= 0 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		var resp cfn.Response
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPut || json.Unmarshal(body, &resp) != nil {
			http.Error(w, "bad answer", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.answers[resp.RequestID] = resp
		c.mu.Unlock()
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *cloudFormation) answer(t testing.TB, requestID string) cfn.Response {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.answers[requestID]
	if !ok {
		t.Fatalf("CloudFormation got no answer to %s", requestID)
	}
	return a
}

// kinesisLimit is how Lambda reports the Kinesis stream's rate limit when many mappings change on one stream: inside
// the message of an InvalidParameterValueException.
const kinesisLimit = "Unable to create/update event source mapping. Lambda was unable to call Kinesis: " +
	"(Service: AmazonKinesis; Status Code: 400; Error Code: LimitExceededException; Request ID: 4f8d6a2c-7c1e-4b7e-9d55-0c6f2b1e8a93; Proxy: null)"

// kinesisLimitOnFirstAttempts fails the first attempt of CreateEventSourceMapping of every function, and the second
// of every function whose name is of odd length, with the Kinesis rate limit as Lambda reports it.
func kinesisLimitOnFirstAttempts() *fault.Injector {
	attempts := map[string]int{}
	return &fault.Injector{
		Operation: "CreateEventSourceMapping",
		Match: func(c fault.Call) bool { // called one at a time
			fn := aws.ToString(c.Input.(*lambda.CreateEventSourceMappingInput).FunctionName)
			attempts[fn]++
			return attempts[fn] == 1 || (attempts[fn] == 2 && len(fn)%2 == 1)
		},
		Fault: fault.JSONError(400, "InvalidParameterValueException", kinesisLimit),
	}
}

type env struct {
	cfg      aws.Config
	lc       *lambda.Client
	cf       *cloudFormation
	handler  func(context.Context, cfn.Event) error
	stream   string
	fn       string           // the function of a test that needs it in an injector
	calls    *fault.Injector  // counts every attempt of every operation
	aws      *fault.Behaviour // answers as Lambda does where moto does not: duplicate mappings, unknown UUIDs
	requests atomic.Int64
}

// newEnv makes a stream in moto, and a mapper whose Lambda client answers as Lambda does (fault.LambdaAsAWS) and has
// the injectors installed.
func newEnv(t testing.TB, injectors ...*fault.Injector) *env {
	cfg := moto.Config(t)
	e := &env{cfg: cfg, cf: newCloudFormation(t), calls: &fault.Injector{}, aws: fault.LambdaAsAWS(cfg)}
	e.lc = lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.Retryer = mapping.NewRetryer(50 * time.Millisecond) // short backoff for tests; production caps at 20 s
		o.APIOptions = append(o.APIOptions, e.aws.Install, e.calls.Install)
		for _, inj := range injectors {
			o.APIOptions = append(o.APIOptions, inj.Install)
		}
	})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := &mapping.Mapper{Client: e.lc, Logger: quiet, PollInterval: 10 * time.Millisecond}
	e.handler = customresource.Wrap(m.Handle, customresource.Options{Logger: quiet, Reserve: time.Second})

	kc := kinesis.NewFromConfig(cfg)
	name := fmt.Sprintf("events-%d", time.Now().UnixNano())
	if _, err := kc.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	d, err := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	e.stream = *d.StreamDescriptionSummary.StreamARN
	return e
}

// send delivers one event to the handler with a 60 s deadline and returns CloudFormation's answer.
func (e *env) send(t testing.TB, typ cfn.RequestType, physicalID string, props, old map[string]any) cfn.Response {
	t.Helper()
	id := fmt.Sprintf("req-%d", e.requests.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := e.handler(ctx, cfn.Event{
		RequestType: typ, RequestID: id, ResponseURL: e.cf.URL + "/" + id, ResourceType: "Custom::EventlakeSubscription",
		LogicalResourceID: "Sub", StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
		PhysicalResourceID: physicalID, ResourceProperties: props, OldResourceProperties: old,
	})
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	return e.cf.answer(t, id)
}

func (e *env) mapping(t *testing.T, uuid string) *lambda.GetEventSourceMappingOutput {
	t.Helper()
	out, err := e.lc.GetEventSourceMapping(context.Background(), &lambda.GetEventSourceMappingInput{UUID: &uuid})
	if err != nil {
		return nil
	}
	return out
}

func (e *env) mappingsOnStream(t *testing.T) []string {
	t.Helper()
	var fns []string
	p := lambda.NewListEventSourceMappingsPaginator(e.lc, &lambda.ListEventSourceMappingsInput{EventSourceArn: &e.stream})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.EventSourceMappings {
			fns = append(fns, *m.FunctionArn)
		}
	}
	return fns
}

func props(fn, stream string, extra ...string) map[string]any {
	p := map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "FunctionName": fn, "EventSourceArn": stream,
		"BatchSize": "50", "BisectBatchOnFunctionError": "true", "ReportBatchItemFailures": "true", "MaximumRetryAttempts": "10",
		"MaximumRecordAgeInSeconds": "86400", "StartingPosition": "TRIM_HORIZON"}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return p
}

func TestCreateUpdateDeleteLifecycle(t *testing.T) {
	e := newEnv(t)
	fnA := moto.NewFunction(t, e.cfg, fmt.Sprintf("a-%d", time.Now().UnixNano()))
	fnB := moto.NewFunction(t, e.cfg, fmt.Sprintf("b-%d", time.Now().UnixNano()))

	// Create
	created := e.send(t, cfn.RequestCreate, "", props(fnA, e.stream), nil)
	if created.Status != cfn.StatusSuccess || created.Data["UUID"] != created.PhysicalResourceID {
		t.Fatalf("create answered %+v", created)
	}
	got := e.mapping(t, created.PhysicalResourceID)
	if got == nil || *got.BatchSize != 50 || !*got.BisectBatchOnFunctionError || len(got.FunctionResponseTypes) != 1 || *got.MaximumRetryAttempts != 10 {
		t.Fatalf("mapping after create: %+v", got)
	}

	// Update in place: same physical id, new settings
	updated := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, props(fnA, e.stream, "BatchSize", "500", "MaximumBatchingWindowInSeconds", "30"), props(fnA, e.stream))
	if updated.Status != cfn.StatusSuccess || updated.PhysicalResourceID != created.PhysicalResourceID {
		t.Fatalf("in-place update answered %+v", updated)
	}
	if got := e.mapping(t, created.PhysicalResourceID); *got.BatchSize != 500 || *got.MaximumBatchingWindowInSeconds != 30 {
		t.Errorf("mapping after update: batch %d window %d", *got.BatchSize, *got.MaximumBatchingWindowInSeconds)
	}

	// Update that changes the function: a new mapping, a new physical id; the old one stays for CloudFormation to delete
	replaced := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, props(fnB, e.stream), props(fnA, e.stream))
	if replaced.Status != cfn.StatusSuccess || replaced.PhysicalResourceID == created.PhysicalResourceID {
		t.Fatalf("replacing update answered %+v", replaced)
	}
	if e.mapping(t, created.PhysicalResourceID) == nil {
		t.Error("the old mapping is gone before CloudFormation deleted it")
	}
	deleted := e.send(t, cfn.RequestDelete, created.PhysicalResourceID, props(fnA, e.stream), nil)
	if deleted.Status != cfn.StatusSuccess || e.mapping(t, created.PhysicalResourceID) != nil {
		t.Fatalf("delete answered %+v; mapping still there: %v", deleted, e.mapping(t, created.PhysicalResourceID) != nil)
	}

	// Update that changes only the starting position: replaced, and exactly one mapping remains
	moved := e.send(t, cfn.RequestUpdate, replaced.PhysicalResourceID, props(fnB, e.stream, "StartingPosition", "LATEST"), props(fnB, e.stream))
	if moved.Status != cfn.StatusSuccess || moved.PhysicalResourceID == replaced.PhysicalResourceID {
		t.Fatalf("starting-position update answered %+v", moved)
	}
	if e.mapping(t, replaced.PhysicalResourceID) != nil {
		t.Error("the mapping with the old starting position was not deleted first")
	}
	if got := e.mapping(t, moved.PhysicalResourceID); got == nil || got.StartingPosition != "LATEST" {
		t.Errorf("mapping after starting-position change: %+v", got)
	}

	// Delete of a mapping that is already gone (Lambda answers 404), and of a Create that never made one
	for _, id := range []string{replaced.PhysicalResourceID, customresource.FailedCreatePrefix + "Sub-12345678"} {
		if a := e.send(t, cfn.RequestDelete, id, props(fnB, e.stream), nil); a.Status != cfn.StatusSuccess || a.PhysicalResourceID != id {
			t.Errorf("delete of missing %s answered %+v", id, a)
		}
	}
	if e.aws.Applied("DeleteEventSourceMapping") != 1 {
		t.Errorf("Lambda answered %d deletes with ResourceNotFoundException, want 1", e.aws.Applied("DeleteEventSourceMapping"))
	}
}

func TestCreateAdoptsAMappingMadeMeanwhile(t *testing.T) {
	// GIVEN a mapper whose first look for an existing mapping finds none, and a mapping of the same function and
	// stream made by someone else right after that look (a retried Create, a second stack)
	var e *env
	var theirs string
	race := &fault.Injector{Operation: "ListEventSourceMappings",
		Match: func(c fault.Call) bool {
			if c.N > 1 {
				return false
			}
			out, err := lambda.NewFromConfig(e.cfg).CreateEventSourceMapping(context.Background(), &lambda.CreateEventSourceMappingInput{
				FunctionName: aws.String(e.fn), EventSourceArn: &e.stream, StartingPosition: "TRIM_HORIZON", BatchSize: aws.Int32(10)})
			if err != nil {
				t.Error(err)
				return false
			}
			theirs = aws.ToString(out.UUID)
			return true
		},
		Fault: fault.JSON(200, `{"EventSourceMappings":[]}`),
	}
	e = newEnv(t, race)
	e.fn = moto.NewFunction(t, e.cfg, fmt.Sprintf("raced-%d", time.Now().UnixNano()))

	// WHEN CloudFormation creates the subscription
	a := e.send(t, cfn.RequestCreate, "", props(e.fn, e.stream), nil)

	// THEN Lambda refused the second mapping, and the mapper adopted theirs, with the declared settings
	if e.aws.Applied("CreateEventSourceMapping") != 1 {
		t.Fatalf("Lambda refused %d creates as duplicates, want 1: the race did not happen", e.aws.Applied("CreateEventSourceMapping"))
	}
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != theirs {
		t.Fatalf("create answered %+v, want the mapping %s adopted", a, theirs)
	}
	if got := e.mapping(t, theirs); got == nil || aws.ToInt32(got.BatchSize) != 50 {
		t.Errorf("adopted mapping not brought to the declared settings: %+v", got)
	}
	if n := len(e.mappingsOnStream(t)); n != 1 {
		t.Errorf("%d mappings on the stream, want 1", n)
	}
}

func TestUpdateOfAMappingDeletedBehindCloudFormationsBackMakesItAgain(t *testing.T) {
	// GIVEN a subscription whose mapping someone deleted
	e := newEnv(t)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("gone-%d", time.Now().UnixNano()))
	created := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
	if _, err := lambda.NewFromConfig(e.cfg).DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: &created.PhysicalResourceID}); err != nil {
		t.Fatal(err)
	}

	// WHEN CloudFormation updates it in place
	a := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, props(fn, e.stream, "BatchSize", "200"), props(fn, e.stream))

	// THEN Lambda answered the update 404, and the mapper made the mapping again with the new settings
	if e.aws.Applied("UpdateEventSourceMapping") != 1 {
		t.Errorf("Lambda refused %d updates, want 1", e.aws.Applied("UpdateEventSourceMapping"))
	}
	got := e.mapping(t, a.PhysicalResourceID)
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID == created.PhysicalResourceID || got == nil || aws.ToInt32(got.BatchSize) != 200 {
		t.Errorf("update answered %+v, mapping %+v: want a new mapping with batch size 200", a, got)
	}
	if n := len(e.mappingsOnStream(t)); n != 1 {
		t.Errorf("%d mappings on the stream, want 1", n)
	}
}

func TestCreateAdoptsAnExistingMapping(t *testing.T) {
	e := newEnv(t)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("adopt-%d", time.Now().UnixNano()))
	existing, err := e.lc.CreateEventSourceMapping(context.Background(), &lambda.CreateEventSourceMappingInput{
		FunctionName: &fn, EventSourceArn: &e.stream, StartingPosition: "LATEST", BatchSize: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	a := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != *existing.UUID {
		t.Fatalf("create answered %+v, want the existing mapping %s adopted", a, *existing.UUID)
	}
	if got := e.mapping(t, *existing.UUID); *got.BatchSize != 50 {
		t.Errorf("adopted mapping not brought to the declared settings: batch %d", *got.BatchSize)
	}
	if n := len(e.mappingsOnStream(t)); n != 1 {
		t.Errorf("%d mappings on the stream, want 1", n)
	}
}

func TestBadPropertiesFailFastWithTheReason(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		props map[string]any
		want  string
	}{
		"batch size":   {props("fn", e.stream, "BatchSize", "20000"), "BatchSize = \"20000\": must be from 1 to 10000"},
		"not a number": {props("fn", e.stream, "ParallelizationFactor", "two"), "ParallelizationFactor = \"two\": must be a whole number"},
		"record age":   {props("fn", e.stream, "MaximumRecordAgeInSeconds", "30"), "MaximumRecordAgeInSeconds = \"30\": must be -1 (infinite) or 60 to 604800"},
		"no function":  {props("", e.stream), "FunctionName = \"\": is required"},
		"bad source":   {props("fn", "arn:aws:sqs:us-east-1:123456789012:q"), "EventSourceArn"},
		"position":     {props("fn", e.stream, "StartingPosition", "AT_TIMESTAMP"), "StartingPositionTimestamp"},
		"unknown":      {props("fn", e.stream, "BatchSise", "10"), "(unknown) = \"BatchSise\""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			a := e.send(t, cfn.RequestCreate, "", c.props, nil)
			if a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, c.want) || a.PhysicalResourceID == "" {
				t.Errorf("answered %s %q (physical id %q), want FAILED naming %q", a.Status, a.Reason, a.PhysicalResourceID, c.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to fail", d)
			}
		})
	}
}

// TestSixteenSubscriptionsUnderLimitExceeded creates 16 mappings on one stream at once while every first attempt
// (and every other second attempt) fails with the Kinesis rate limit inside an InvalidParameterValueException, as
// Lambda reports it: all 16 end up created exactly once.
func TestSixteenSubscriptionsUnderLimitExceeded(t *testing.T) {
	limit := kinesisLimitOnFirstAttempts()
	e := newEnv(t, limit)
	var fns []string
	for i := range 16 {
		fns = append(fns, moto.NewFunction(t, e.cfg, fmt.Sprintf("sub%d-%d", i, time.Now().UnixNano())))
	}
	answers := make([]cfn.Response, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
		}()
	}
	wg.Wait()
	for i, a := range answers {
		if a.Status != cfn.StatusSuccess {
			t.Errorf("subscription %d answered %s: %s", i, a.Status, a.Reason)
		}
	}
	if inj := limit.Injected(); inj < 16 {
		t.Errorf("only %d faults injected; want every first attempt to fail", inj)
	}
	onStream := e.mappingsOnStream(t)
	if len(onStream) != 16 {
		t.Fatalf("%d mappings on the stream, want 16", len(onStream))
	}
	seen := map[string]bool{}
	for _, fn := range onStream {
		if seen[fn] {
			t.Errorf("%s is mapped twice", fn)
		}
		seen[fn] = true
	}
}

// TestRateLimitIsRetriedWhereverItIsReported fails the first three attempts of CreateEventSourceMapping, and then of
// UpdateEventSourceMapping, with a rate limit or a server error in each of the ways Lambda reports one: each
// subscription is created (and updated) exactly once, and CloudFormation is answered SUCCESS.
func TestRateLimitIsRetriedWhereverItIsReported(t *testing.T) {
	cases := map[string]fault.Fault{
		"own code":                fault.JSONError(400, "LimitExceededException", "injected"),
		"kinesis code in message": fault.JSONError(400, "InvalidParameterValueException", kinesisLimit),
		"rate exceeded in message": fault.JSONError(400, "InvalidParameterValueException",
			"Unable to create/update event source mapping: Kinesis returned Rate exceeded for stream events under account 123456789012."),
		"throttling in message": fault.JSONError(400, "InvalidParameterValueException", "Request to Kinesis was throttled, try again later"),
		"429":                   fault.JSONError(429, "TooManyRequestsException", "Rate exceeded"),
		"429 of any code":       fault.JSONError(429, "RequestRejected", "come back later"),
		"500":                   fault.JSONError(500, "ServiceException", "internal failure"),
		"503":                   fault.JSONError(503, "ServiceUnavailableException", "unavailable"),
		"API error in message":  fault.APIError("InvalidParameterValueException", kinesisLimit),
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			create := &fault.Injector{Operation: "CreateEventSourceMapping", Times: 3, Fault: f}
			update := &fault.Injector{Operation: "UpdateEventSourceMapping", Times: 3, Fault: f}
			e := newEnv(t, create, update)
			fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("limited-%d", time.Now().UnixNano()))

			created := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
			if created.Status != cfn.StatusSuccess {
				t.Fatalf("create answered %s: %s", created.Status, created.Reason)
			}
			if create.Calls() != 4 || create.Injected() != 3 {
				t.Errorf("%d attempts of CreateEventSourceMapping (%d failed); want 4 (3)", create.Calls(), create.Injected())
			}
			if on := e.mappingsOnStream(t); len(on) != 1 || on[0] != fn {
				t.Errorf("mappings on the stream: %v, want exactly one, of %s", on, fn)
			}

			updated := e.send(t, cfn.RequestUpdate, created.PhysicalResourceID, props(fn, e.stream, "BatchSize", "200"), props(fn, e.stream))
			if updated.Status != cfn.StatusSuccess || updated.PhysicalResourceID != created.PhysicalResourceID {
				t.Fatalf("update answered %s %q: %s", updated.Status, updated.PhysicalResourceID, updated.Reason)
			}
			if update.Calls() != 4 || update.Injected() != 3 {
				t.Errorf("%d attempts of UpdateEventSourceMapping (%d failed); want 4 (3)", update.Calls(), update.Injected())
			}
			if got := e.mapping(t, created.PhysicalResourceID); got == nil || *got.BatchSize != 200 {
				t.Errorf("mapping after update: %+v", got)
			}
		})
	}
}

// TestInvalidParameterFailsFastWithTheMessage: an InvalidParameterValueException that is no rate limit is not retried;
// CloudFormation gets FAILED at once, with Lambda's message.
func TestInvalidParameterFailsFastWithTheMessage(t *testing.T) {
	for _, msg := range []string{
		"1 validation error detected: Value '20000' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
		"Cannot access stream arn:aws:kinesis:us-east-1:123456789012:stream/events. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream.",
		"AliasLimitExceededException: the limit of aliases was exceeded",
	} {
		t.Run(msg[:20], func(t *testing.T) {
			invalid := &fault.Injector{Operation: "CreateEventSourceMapping", Fault: fault.JSONError(400, "InvalidParameterValueException", msg)}
			e := newEnv(t, invalid)
			fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("invalid-%d", time.Now().UnixNano()))
			start := time.Now()
			a := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
			if a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, msg) || !strings.Contains(a.Reason, "InvalidParameterValueException") {
				t.Errorf("answered %s %q, want FAILED with Lambda's message", a.Status, a.Reason)
			}
			if invalid.Calls() != 1 {
				t.Errorf("%d attempts of CreateEventSourceMapping, want 1", invalid.Calls())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v to fail", d)
			}
			if on := e.mappingsOnStream(t); len(on) != 0 {
				t.Errorf("mappings on the stream: %v, want none", on)
			}
		})
	}
}

// TestRetryerJudgesErrors checks NewRetryer's verdict on errors as the SDK hands them over, without a server.
func TestRetryerJudgesErrors(t *testing.T) {
	r := mapping.NewRetryer(time.Second)
	op := func(err error) error {
		return &smithy.OperationError{ServiceID: "Lambda", OperationName: "CreateEventSourceMapping", Err: err}
	}
	withStatus := func(status int, err error) error {
		return op(&awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err,
		}})
	}
	invalid := func(msg string) error {
		return withStatus(400, &types.InvalidParameterValueException{Message: aws.String(msg)})
	}
	cases := []struct {
		err  error
		want bool
	}{
		{invalid(kinesisLimit), true},
		{invalid("Rate exceeded for stream events under account 123456789012."), true},
		{invalid("Kinesis: Rate Exceeded"), true},
		{invalid("Error Code: TooManyRequestsException"), true},
		{invalid("the call to Kinesis was Throttled"), true},
		{invalid("Error Code: ProvisionedThroughputExceededException"), true},
		{op(&smithy.GenericAPIError{Code: "LimitExceededException", Message: "x"}), true},
		{op(&smithy.GenericAPIError{Code: "ResourceInUseException", Message: "x"}), true},
		{withStatus(429, &smithy.GenericAPIError{Code: "Unrecognised", Message: "x"}), true},
		{withStatus(500, &types.ServiceException{Message: aws.String("x")}), true},
		{withStatus(503, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "x"}), true},
		{withStatus(429, &types.TooManyRequestsException{Message: aws.String("x")}), true},

		{invalid("Value '20000' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000"), false},
		{invalid("BatchSize exceeds the limit of 10000"), false},
		{invalid("AliasLimitExceededException"), false},
		{invalid("The rate of 5 exceeded nothing"), false},
		{withStatus(400, &types.ResourceConflictException{Message: aws.String("mapping exists")}), false},
		{withStatus(404, &types.ResourceNotFoundException{Message: aws.String("no such mapping")}), false},
		{op(&smithy.GenericAPIError{Code: "ServiceQuotaExceededException", Message: "quota"}), false},
	}
	for _, c := range cases {
		if got := r.IsErrorRetryable(c.err); got != c.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
