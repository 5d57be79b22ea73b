package rehearsal

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/rehearsal/customres"
	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

// subResourceType is the type of the blueprint's subscriptions.
const subResourceType = "Custom::EventlakeSubscription"

// subRequestTimeout bounds one CloudFormation request of the scenario: far below the resources' service timeout (11
// minutes), far above what the mapper needs through the faults (a few seconds of the SDK's jittered backoff).
const subRequestTimeout = 30 * time.Second

// The rate limit as Lambda reports it (see package mapping): Kinesis's code, and inside InvalidParameterValueException.
const (
	subKinesisCodeInMessage = "Unable to create/update event source mapping. Lambda was unable to call Kinesis: " +
		"(Service: AmazonKinesis; Status Code: 400; Error Code: LimitExceededException; Request ID: 4f8d6a2c-7c1e-4b7e-9d55-0c6f2b1e8a93; Proxy: null)"
	subRateExceededInMessage = "Unable to create/update event source mapping: Kinesis returned Rate exceeded for stream %s under account %s."
)

// subscription is one Custom::EventlakeSubscription of the templates, as the scenario deploys it.
type subscription struct {
	Stack, LogicalID string
	// props are the resolved properties CloudFormation sends now; old those of the last deploy.
	props, old map[string]any
	// physicalID is the id the last answer gave: the mapping's UUID.
	physicalID string
	// mapper is the subscription's own execution environment of its stack's mapper (the function its ServiceToken
	// names): CloudFormation invokes the mapper once per resource, concurrently, and Lambda gives each concurrent
	// invocation an environment of its own.
	mapper *lambdart.Function
}

func (s *subscription) String() string   { return s.Stack + "/" + s.LogicalID }
func (s *subscription) function() string { return fmt.Sprint(s.props["FunctionName"]) }
func (s *subscription) source() string   { return fmt.Sprint(s.props["EventSourceArn"]) }
func (s *subscription) consumer() bool   { _, ok := consumerStream(s.source()); return ok }

// subCall is one Lambda API request of a mapper, with the answer it got (from moto through the gate, or a fault).
type subCall struct {
	Method, Path string
	Status       int
	Code         string // X-Amzn-Errortype of an error
}

// subRecorder records the mappers' event source mapping requests as they reach the Lambda API.
type subRecorder struct {
	mu    sync.Mutex
	calls []subCall
}

func (rec *subRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &subStatusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if lambdaESM.MatchString(r.URL.Path) {
			rec.mu.Lock()
			rec.calls = append(rec.calls, subCall{r.Method, r.URL.Path, sw.status, sw.Header().Get("X-Amzn-Errortype")})
			rec.mu.Unlock()
		}
	})
}

// count returns how many requests of the method got the status and error code.
func (rec *subRecorder) count(method string, status int, code string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, c := range rec.calls {
		if c.Method == method && c.Status == status && c.Code == code {
			n++
		}
	}
	return n
}

type subStatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *subStatusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// subFault is a fault the scenario injects, and what it is meant for.
type subFault struct {
	what, target string
	route        *fault.Route
}

// subScenario is the state of the subscriptions scenario: the rehearsal, CloudFormation's custom resource runner, the
// subscriptions as deployed, and the faults of the current step.
type subScenario struct {
	r      *Rehearsal
	admin  *lambda.Client // straight to the gate: no faults
	runner *customres.Runner
	subs   []*subscription
	rec    subRecorder

	mu sync.Mutex // guards faults and conflictUUID
	// faults are the faults of the current step, in front of the gate on the mappers' way to the Lambda API.
	faults []*subFault
	// conflictUUID is the mapping the conflict fault made "meanwhile", which the mapper must adopt.
	conflictUUID map[*subscription]string
}

// lambdaAPI is the handler of [WithLambdaAPI]: the current faults, then the gate, with every request recorded.
func (sc *subScenario) lambdaAPI(api http.Handler) http.Handler {
	return sc.rec.wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sc.mu.Lock()
		routes := make([]*fault.Route, len(sc.faults))
		for i, f := range sc.faults {
			routes[i] = f.route
		}
		sc.mu.Unlock()
		fault.Handler(api, routes...).ServeHTTP(w, req)
	}))
}

func (sc *subScenario) inject(f *subFault) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.faults = append(sc.faults, f)
}

// newStep drops the faults of the last step.
func (sc *subScenario) newStep() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.faults = nil
}

// checkFaults requires that every fault of the step was met.
func (sc *subScenario) checkFaults(t *testing.T) {
	t.Helper()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, f := range sc.faults {
		if want := max(f.route.Times, 1); f.route.Injected() != want {
			t.Errorf("the fault %q meant for %s was injected %d times, want %d: the scenario no longer exercises it", f.what, f.target, f.route.Injected(), want)
		}
	}
}

// run sends CloudFormation's request for a subscription to the subscription's mapper environment.
func (sc *subScenario) run(s *subscription, typ cfn.RequestType, physicalID string, props, old map[string]any) (*cfn.Response, error) {
	d := sc.r.Deployment()
	return sc.runner.Run(context.Background(), s.mapper, customres.Request{Type: typ, ResourceType: subResourceType, LogicalResourceID: s.LogicalID,
		StackID:            fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/6f0b5e10-rehearsal", d.Region, d.AccountID, s.Stack),
		PhysicalResourceID: physicalID, Properties: props, OldProperties: old}, subRequestTimeout)
}

// each runs f for every subscription at once, as CloudFormation runs the resources of a stack that do not depend on
// each other.
func (sc *subScenario) each(f func(s *subscription)) {
	var wg sync.WaitGroup
	for _, s := range sc.subs {
		wg.Add(1)
		go func() { defer wg.Done(); f(s) }()
	}
	wg.Wait()
}

// deleteBehindCloudFormation deletes a subscription's mapping as an operator would, by hand.
func (sc *subScenario) deleteBehindCloudFormation(t *testing.T, s *subscription) {
	t.Helper()
	if _, err := sc.admin.DeleteEventSourceMapping(context.Background(), &lambda.DeleteEventSourceMappingInput{UUID: &s.physicalID}); err != nil {
		t.Fatalf("delete the mapping of %s behind CloudFormation's back: %v", s, err)
	}
}

// subSucceeded requires a SUCCESS answer whose physical id is a mapping's UUID.
func subSucceeded(t *testing.T, step string, s *subscription, resp *cfn.Response, err error) bool {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s of %s: %v", step, s, err)
	case resp.Status != cfn.StatusSuccess:
		t.Errorf("%s of %s answered %s: %s", step, s, resp.Status, resp.Reason)
	case !subUUID.MatchString(resp.PhysicalResourceID):
		t.Errorf("%s of %s answered the physical id %q, not a mapping's UUID", step, s, resp.PhysicalResourceID)
	default:
		return true
	}
	return false
}

// TestSubscriptions is scenario 3: every subscription of the templates is created, updated and deleted by its stack's
// own mapper (its arm64 bootstrap, under its role, checked by the gate against the role's policy) as CloudFormation
// runs custom resources, against moto's Lambda API, through the faults Lambda answers with: the Kinesis rate limit as
// its own code and inside InvalidParameterValueException's message, HTTP 429, a mapping that already exists
// (ResourceConflictException naming its UUID), and mappings deleted behind CloudFormation's back (unknown UUIDs on
// update and delete). After each step every subscription has exactly one mapping, with its properties; after the
// stacks' delete none is left.
func TestSubscriptions(t *testing.T) {
	sc := &subScenario{conflictUUID: map[*subscription]string{}}
	r := Start(t, AssemblyDir(t), WithoutEcho(), WithLambdaAPI(sc.lambdaAPI))
	sc.r, sc.admin = r, lambda.NewFromConfig(r.AdminConfig())
	d := r.Deployment()
	ctx := context.Background()
	var err error
	if sc.runner, err = customres.NewRunner(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sc.runner.Close() })

	// GIVEN every subscription of the templates, with its resolved properties, and an environment of its mapper
	for _, res := range d.Resources {
		if res.Type != subResourceType {
			continue
		}
		s := &subscription{Stack: res.Stack, LogicalID: res.LogicalID, props: d.Properties(res.Stack, res.LogicalID)}
		token := fmt.Sprint(s.props["ServiceToken"])
		mapper := r.FunctionNamed(lastSegment(token))
		if mapper == nil {
			t.Fatalf("%s: its ServiceToken %s is none of the rehearsal's functions", s, token)
		}
		if mapper.Stack != s.Stack {
			t.Errorf("%s is served by the mapper of stack %s", s, mapper.Stack)
		}
		if s.mapper, err = lambdart.NewFunction(mapper.Config()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.mapper.Close() })
		sc.subs = append(sc.subs, s)
	}
	subs := sc.subs
	sort.Slice(subs, func(i, j int) bool { return subs[i].String() < subs[j].String() })
	var onConsumers []*subscription
	for _, s := range subs {
		if s.consumer() {
			onConsumers = append(onConsumers, s)
		}
	}
	if len(onConsumers) < 1 || len(subs) < 5 {
		t.Fatalf("%d subscriptions, %d of them on consumers: the scenario gives a change of its own to 5 of them, one on a consumer", len(subs), len(onConsumers))
	}
	t.Logf("%d subscriptions: %v (%d on enhanced fan-out consumers)", len(subs), subs, len(onConsumers))
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range subs {
				t.Logf("logs of the mapper environment of %s:\n%s", s, s.mapper.Logs())
			}
		}
	})

	t.Run("each subscribed function's role lets Lambda read its source and keep its failed batches", func(t *testing.T) {
		// GIVEN Lambda's check, at CreateEventSourceMapping, that the function's execution role allows what the mapping
		// does in its name (InvalidParameterValueException "The provided execution role does not have permissions
		// to call … " otherwise), which moto does not make
		policies := func(s *subscription, edit func(string) string) []*policy {
			fn := r.FunctionNamed(lastSegment(s.function()))
			if fn == nil {
				t.Fatalf("%s maps %s, none of the rehearsal's functions", s, s.function())
			}
			var ps []*policy
			for _, pd := range r.RolePolicies(fn.Stack, fn.RoleLogicalID) {
				ps = append(ps, mustPolicy(t, edit(string(pd.Document))))
			}
			return ps
		}
		same := func(doc string) string { return doc }
		// THEN every subscription's function may do it
		for _, s := range subs {
			for _, p := range subExecutionProblems(policies(s, same), s.props) {
				t.Errorf("%s: %s", s, p)
			}
		}
		// AND the check finds a grant missing
		s := subs[0]
		cut := policies(s, func(doc string) string { return strings.ReplaceAll(doc, `"kinesis:GetRecords",`, "") })
		if probs := subExecutionProblems(cut, s.props); len(probs) != 1 || !strings.Contains(probs[0], "kinesis:GetRecords") {
			t.Errorf("without kinesis:GetRecords: %q", probs)
		}
	})

	if !t.Run("create", func(t *testing.T) {
		// GIVEN faults on the first attempts: the rate limit as its own code, inside InvalidParameterValueException's
		// message (Kinesis's code, and "Rate exceeded"), 429 on a create and on a list, and, for a subscription on a
		// consumer, a mapping of its function and source made meanwhile by someone else, with Lambda's defaults
		conflicted := onConsumers[0]
		sc.inject(&subFault{"a mapping made meanwhile (ResourceConflictException naming its UUID)", conflicted.String(), &fault.Route{
			Method: http.MethodPost, Match: subCreate, MatchBody: subNames(conflicted), Times: 1,
			Fault: func(req *http.Request) (*http.Response, error) {
				var in struct {
					FunctionName, EventSourceArn string
					StartingPosition             ltypes.EventSourcePosition
				}
				if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
					return nil, err
				}
				// As a concurrent deploy, or an attempt whose answer was lost, would have made it: from the same
				// position (which no update changes), every other setting at Lambda's default.
				made, err := sc.admin.CreateEventSourceMapping(req.Context(), &lambda.CreateEventSourceMappingInput{FunctionName: &in.FunctionName,
					EventSourceArn: &in.EventSourceArn, StartingPosition: in.StartingPosition})
				if err != nil {
					return nil, fmt.Errorf("make the conflicting mapping: %w", err)
				}
				sc.mu.Lock()
				sc.conflictUUID[conflicted] = aws.ToString(made.UUID)
				sc.mu.Unlock()
				return fault.JSONError(http.StatusConflict, "ResourceConflictException", fmt.Sprintf("The event source arn (%s) and function (%s) provided mapping already exists. Please update or delete the existing mapping with UUID %s",
					in.EventSourceArn, in.FunctionName, aws.ToString(made.UUID)))(req)
			},
		}})
		stream, _ := consumerStream(onConsumers[0].source())
		streamName := stream[strings.LastIndex(stream, "/")+1:]
		createFaults := []struct {
			what string
			f    fault.Fault
		}{
			{"the rate limit as its own code", fault.JSONError(http.StatusBadRequest, "LimitExceededException", "Rate exceeded for stream "+streamName+" under account "+d.AccountID+".")},
			{"Kinesis's rate limit code in InvalidParameterValueException's message", fault.JSONError(http.StatusBadRequest, "InvalidParameterValueException", subKinesisCodeInMessage)},
			{"429", fault.JSONError(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")},
			{"\"Rate exceeded\" in InvalidParameterValueException's message", fault.JSONError(http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf(subRateExceededInMessage, streamName, d.AccountID))},
		}
		others := slices.DeleteFunc(slices.Clone(subs), func(s *subscription) bool { return s == conflicted })
		for i, cf := range createFaults {
			s := others[i%len(others)]
			sc.inject(&subFault{cf.what + " on CreateEventSourceMapping", s.String(), &fault.Route{Method: http.MethodPost, Match: subCreate, MatchBody: subNames(s), Times: 1, Fault: cf.f}})
		}
		sc.inject(&subFault{"429 on ListEventSourceMappings", "the first list of any subscription", &fault.Route{Method: http.MethodGet, Match: subList, Times: 1,
			Fault: fault.JSONError(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")}})

		// WHEN CloudFormation creates the stacks
		began := time.Now()
		sc.each(func(s *subscription) {
			resp, err := sc.run(s, cfn.RequestCreate, "", s.props, nil)
			if subSucceeded(t, "create", s, resp, err) {
				s.physicalID = resp.PhysicalResourceID
				if resp.Data["UUID"] != s.physicalID || resp.Data["EventSourceMappingArn"] != fmt.Sprintf("arn:aws:lambda:%s:%s:event-source-mapping:%s", d.Region, d.AccountID, s.physicalID) {
					t.Errorf("create of %s answered the attributes %v", s, resp.Data)
				}
			}
		})
		t.Logf("created in %s", time.Since(began).Round(time.Millisecond))

		// THEN every subscription has one mapping, with its properties; the conflicting one was adopted, and every
		// fault was met
		sc.checkMappings(t)
		sc.mu.Lock()
		got := sc.conflictUUID[conflicted]
		sc.mu.Unlock()
		if got == "" || conflicted.physicalID != got {
			t.Errorf("%s answered %s, not the UUID of the mapping it conflicted with (%s): it was not adopted", conflicted, conflicted.physicalID, got)
		}
		sc.checkFaults(t)
	}) {
		return
	}

	if !t.Run("update", func(t *testing.T) {
		// GIVEN a change of every subscription: in place (the batch size and window, through the rate limit as its own
		// code; the filters, through Kinesis's code inside InvalidParameterValueException), a replacement (the
		// starting position: the mapper deletes the old mapping first, as Lambda keeps one per function and source;
		// the source, from a consumer to its stream), and an in-place change of a mapping deleted behind
		// CloudFormation's back (the mapper makes it again)
		sc.newStep()
		byKind := map[string]*subscription{}
		byKind["source"] = onConsumers[len(onConsumers)-1]
		kinds := []string{"batch", "filters", "position", "gone"}
		rest := slices.DeleteFunc(slices.Clone(subs), func(s *subscription) bool { return s == byKind["source"] })
		for i, s := range rest {
			byKind[kinds[i%len(kinds)]] = s
		}
		for _, s := range subs {
			s.old, s.props = s.props, maps.Clone(s.props)
		}
		b := byKind["batch"]
		b.props["BatchSize"] = strconv.Itoa(max(subInt(t, b.old, "BatchSize", 100)/2, 1))
		b.props["MaximumBatchingWindowInSeconds"] = strconv.Itoa(subInt(t, b.old, "MaximumBatchingWindowInSeconds", 0) + 2)
		sc.inject(&subFault{"the rate limit as its own code on UpdateEventSourceMapping", b.String(), &fault.Route{Method: http.MethodPut, Match: subPathOf(b.physicalID), Times: 1,
			Fault: fault.JSONError(http.StatusBadRequest, "LimitExceededException", "Rate exceeded")}})
		f := byKind["filters"]
		f.props["FilterPatterns"] = []any{`{"data":{"type":[{"prefix":"rehearsal-"}]}}`, `{"data":{"type":["order-updated"]}}`}
		sc.inject(&subFault{"Kinesis's rate limit code in InvalidParameterValueException's message on UpdateEventSourceMapping", f.String(), &fault.Route{Method: http.MethodPut, Match: subPathOf(f.physicalID), Times: 1,
			Fault: fault.JSONError(http.StatusBadRequest, "InvalidParameterValueException", subKinesisCodeInMessage)}})
		byKind["position"].props["StartingPosition"] = "LATEST"
		src := byKind["source"]
		src.props["EventSourceArn"], _ = consumerStream(src.old["EventSourceArn"].(string))
		g := byKind["gone"]
		g.props["BatchSize"] = strconv.Itoa(subInt(t, g.old, "BatchSize", 100) + 1)
		sc.deleteBehindCloudFormation(t, g)
		notFoundUpdates, notFoundDeletes := sc.rec.count(http.MethodPut, 404, "ResourceNotFoundException"), sc.rec.count(http.MethodDelete, 404, "ResourceNotFoundException")

		// WHEN CloudFormation updates the stacks, then deletes the mappings replaced (with their old properties), as it
		// does in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
		began := time.Now()
		replaced := map[*subscription]string{}
		var rmu sync.Mutex
		sc.each(func(s *subscription) {
			resp, err := sc.run(s, cfn.RequestUpdate, s.physicalID, s.props, s.old)
			if !subSucceeded(t, "update", s, resp, err) {
				return
			}
			if resp.PhysicalResourceID != s.physicalID {
				rmu.Lock()
				replaced[s] = s.physicalID
				rmu.Unlock()
				s.physicalID = resp.PhysicalResourceID
			}
		})
		sc.each(func(s *subscription) {
			if old, ok := replaced[s]; ok {
				resp, err := sc.run(s, cfn.RequestDelete, old, s.old, nil)
				subSucceeded(t, "cleanup delete of the replaced mapping "+old, s, resp, err)
			}
		})
		t.Logf("updated in %s", time.Since(began).Round(time.Millisecond))

		// THEN every subscription has one mapping, with its new properties: replaced where the function, the source
		// or the starting position changed, and where the mapping was gone; in place otherwise
		sc.checkMappings(t)
		for kind, s := range byKind {
			_, wasReplaced := replaced[s]
			if want := kind == "source" || kind == "position" || kind == "gone"; wasReplaced != want {
				t.Errorf("%s (%s): replaced %v, want %v", s, kind, wasReplaced, want)
			}
		}
		if n := sc.rec.count(http.MethodPut, 404, "ResourceNotFoundException") - notFoundUpdates; n != 1 {
			t.Errorf("%d updates of a mapping deleted behind CloudFormation's back answered ResourceNotFoundException, want 1", n)
		}
		// The replaced mappings of the position and of the gone one were deleted by the mapper before CloudFormation's
		// cleanup asks.
		if n := sc.rec.count(http.MethodDelete, 404, "ResourceNotFoundException") - notFoundDeletes; n != 2 {
			t.Errorf("%d deletes of unknown UUIDs answered ResourceNotFoundException in the cleanup, want 2", n)
		}
		sc.checkFaults(t)
	}) {
		return
	}

	t.Run("delete", func(t *testing.T) {
		// GIVEN one mapping deleted behind CloudFormation's back, and 429 on the first delete of another
		sc.newStep()
		gone, throttled := subs[len(subs)-1], subs[0]
		sc.deleteBehindCloudFormation(t, gone)
		sc.inject(&subFault{"429 on DeleteEventSourceMapping", throttled.String(), &fault.Route{Method: http.MethodDelete, Match: subPathOf(throttled.physicalID), Times: 1,
			Fault: fault.JSONError(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")}})
		notFound := sc.rec.count(http.MethodDelete, 404, "ResourceNotFoundException")

		// WHEN CloudFormation deletes the stacks
		began := time.Now()
		sc.each(func(s *subscription) {
			resp, err := sc.run(s, cfn.RequestDelete, s.physicalID, s.props, nil)
			subSucceeded(t, "delete", s, resp, err)
		})
		t.Logf("deleted in %s", time.Since(began).Round(time.Millisecond))

		// THEN no mapping is left, and the unknown UUID was answered SUCCESS
		if all := sc.mappings(t); len(all) != 0 {
			t.Errorf("%d mappings left after the stacks' delete: %+v", len(all), all)
		}
		if n := sc.rec.count(http.MethodDelete, 404, "ResourceNotFoundException") - notFound; n != 1 {
			t.Errorf("%d deletes answered ResourceNotFoundException, want 1 (of %s)", n, gone)
		}
		sc.checkFaults(t)
	})

	t.Run("the gate checked the mappers' calls against their policies", func(t *testing.T) {
		g := r.gate
		g.mu.Lock()
		checked := maps.Clone(g.checked)
		g.mu.Unlock()
		for _, action := range []string{"lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings", "lambda:GetEventSourceMapping",
			"lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"} {
			if checked[action] == 0 {
				t.Errorf("the gate checked no %s of the mappers", action)
			}
		}
		// WHEN a mapper's policy lacks lambda:DeleteEventSourceMapping THEN its delete answers FAILED, naming it
		s := subs[0]
		mapper := r.FunctionNamed(lastSegment(fmt.Sprint(s.props["ServiceToken"])))
		for _, pd := range r.RolePolicies(mapper.Stack, mapper.RoleLogicalID) {
			doc := strings.Replace(string(pd.Document), `"lambda:DeleteEventSourceMapping",`, "", 1)
			if pd.Document == nil || doc == string(pd.Document) {
				continue
			}
			if err := r.SetRolePolicy(ctx, mapper.Stack, mapper.RoleLogicalID, pd.Name, []byte(doc)); err != nil {
				t.Fatal(err)
			}
			resp, err := sc.run(s, cfn.RequestDelete, "0b5e7d1c-3f5a-4c5c-9b1c-2d2b1f0a1b2c", s.props, nil)
			if err != nil || resp.Status != cfn.StatusFailed || !strings.Contains(resp.Reason, "lambda:DeleteEventSourceMapping") {
				t.Errorf("delete without the grant: %v %+v", err, resp)
			}
			if ds := r.TakeDenials(); len(ds) != 1 || ds[0].Action != "lambda:DeleteEventSourceMapping" || ds[0].Function != mapper.Name() {
				t.Errorf("denials %v", ds)
			}
			if err := r.SetRolePolicy(ctx, mapper.Stack, mapper.RoleLogicalID, pd.Name, pd.Document); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("no policy of %s's role grants lambda:DeleteEventSourceMapping", mapper.Name())
	})
}

var subUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func subCreate(r *http.Request) bool {
	return strings.TrimSuffix(r.URL.Path, "/") == "/2015-03-31/event-source-mappings"
}
func subList(r *http.Request) bool { return subCreate(r) }

// subPathOf picks the requests of one mapping.
func subPathOf(uuid string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.URL.Path == "/2015-03-31/event-source-mappings/"+uuid }
}

// subNames picks the CreateEventSourceMapping of a subscription's function.
func subNames(s *subscription) func(*http.Request, []byte) bool {
	fn := s.function()
	return func(_ *http.Request, body []byte) bool {
		var in struct{ FunctionName string }
		return json.Unmarshal(body, &in) == nil && in.FunctionName == fn
	}
}

func subInt(t *testing.T, props map[string]any, key string, def int) int {
	t.Helper()
	v, ok := props[key]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		t.Fatalf("property %s = %v: %v", key, v, err)
	}
	return n
}

// subView is what the scenario compares of a mapping: the settings a Custom::EventlakeSubscription declares.
type subView struct {
	Function, Source, StartingPosition, OnFailure                    string
	BatchSize, Window, Parallelization, Retries, RecordAge, Tumbling int
	Bisect, Enabled, ReportFailures                                  bool
	Filters, Metrics                                                 []string
}

// subWant is the mapping a subscription's properties ask for, read from the properties as the template resolves them
// (not with the mapper's own parser), with Lambda's defaults for Kinesis where a property is absent.
func subWant(t *testing.T, props map[string]any) subView {
	t.Helper()
	str := func(k, def string) string {
		if v, ok := props[k]; ok {
			return fmt.Sprint(v)
		}
		return def
	}
	boolean := func(k string, def bool) bool {
		b, err := strconv.ParseBool(str(k, strconv.FormatBool(def)))
		if err != nil {
			t.Fatalf("property %s = %v: %v", k, props[k], err)
		}
		return b
	}
	list := func(k string) []string {
		var out []string
		items, _ := props[k].([]any)
		for _, it := range items {
			out = append(out, fmt.Sprint(it))
		}
		return out
	}
	return subView{
		Function: str("FunctionName", ""), Source: str("EventSourceArn", ""), StartingPosition: str("StartingPosition", "TRIM_HORIZON"),
		OnFailure: str("OnFailureDestination", ""), BatchSize: subInt(t, props, "BatchSize", 100),
		Window: subInt(t, props, "MaximumBatchingWindowInSeconds", 0), Parallelization: subInt(t, props, "ParallelizationFactor", 1),
		Retries: subInt(t, props, "MaximumRetryAttempts", -1), RecordAge: subInt(t, props, "MaximumRecordAgeInSeconds", -1),
		Tumbling: subInt(t, props, "TumblingWindowInSeconds", 0), Bisect: boolean("BisectBatchOnFunctionError", false),
		Enabled: boolean("Enabled", true), ReportFailures: boolean("ReportBatchItemFailures", false),
		Filters: list("FilterPatterns"), Metrics: list("Metrics"),
	}
}

// subGot is a mapping as moto stores it.
func subGot(m ltypes.EventSourceMappingConfiguration) subView {
	v := subView{
		Function: aws.ToString(m.FunctionArn), Source: aws.ToString(m.EventSourceArn), StartingPosition: string(m.StartingPosition),
		BatchSize: int(aws.ToInt32(m.BatchSize)), Window: int(aws.ToInt32(m.MaximumBatchingWindowInSeconds)),
		Parallelization: int(aws.ToInt32(m.ParallelizationFactor)), Retries: int(aws.ToInt32(m.MaximumRetryAttempts)),
		RecordAge: int(aws.ToInt32(m.MaximumRecordAgeInSeconds)), Tumbling: int(aws.ToInt32(m.TumblingWindowInSeconds)),
		Bisect: aws.ToBool(m.BisectBatchOnFunctionError), Enabled: aws.ToString(m.State) == "Enabled",
		ReportFailures: slices.Contains(m.FunctionResponseTypes, ltypes.FunctionResponseTypeReportBatchItemFailures),
	}
	if d := m.DestinationConfig; d != nil && d.OnFailure != nil {
		v.OnFailure = aws.ToString(d.OnFailure.Destination)
	}
	if m.FilterCriteria != nil {
		for _, f := range m.FilterCriteria.Filters {
			v.Filters = append(v.Filters, aws.ToString(f.Pattern))
		}
	}
	if m.MetricsConfig != nil {
		for _, x := range m.MetricsConfig.Metrics {
			v.Metrics = append(v.Metrics, string(x))
		}
	}
	return v
}

// mappings lists every mapping in moto, through the gate (which names a consumer as the source of a mapping on
// it).
func (sc *subScenario) mappings(t *testing.T) []ltypes.EventSourceMappingConfiguration {
	t.Helper()
	var all []ltypes.EventSourceMappingConfiguration
	pages := lambda.NewListEventSourceMappingsPaginator(sc.admin, &lambda.ListEventSourceMappingsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list the mappings: %v", err)
		}
		all = append(all, page.EventSourceMappings...)
	}
	return all
}

// checkMappings requires that every subscription has exactly one mapping of its function on its source, whose UUID
// is its physical id and whose settings are its properties, and that no other mapping exists.
func (sc *subScenario) checkMappings(t *testing.T) {
	t.Helper()
	all := sc.mappings(t)
	if len(all) != len(sc.subs) {
		t.Errorf("%d mappings in moto, want one per subscription (%d)", len(all), len(sc.subs))
	}
	for _, s := range sc.subs {
		want := subWant(t, s.props)
		var mine []ltypes.EventSourceMappingConfiguration
		for _, m := range all {
			if aws.ToString(m.FunctionArn) == want.Function && aws.ToString(m.EventSourceArn) == want.Source {
				mine = append(mine, m)
			}
		}
		if len(mine) != 1 {
			t.Errorf("%s: %d mappings of %s on %s, want 1", s, len(mine), want.Function, want.Source)
			continue
		}
		if id := aws.ToString(mine[0].UUID); id != s.physicalID {
			t.Errorf("%s: its mapping is %s, its physical id %s", s, id, s.physicalID)
		}
		if got := subGot(mine[0]); !subEqual(got, want) {
			t.Errorf("%s: the mapping in moto differs from the properties:\n got %+v\nwant %+v", s, got, want)
		}
	}
}

func subEqual(a, b subView) bool {
	// Lists compare by their items: no filters is nil from the properties and empty from moto.
	return reflect.DeepEqual(a.normalized(), b.normalized())
}

func (v subView) normalized() subView {
	if len(v.Filters) == 0 {
		v.Filters = nil
	}
	if len(v.Metrics) == 0 {
		v.Metrics = nil
	}
	return v
}

// subExecutionProblems says what a function's role does not allow of what Lambda does in its name for a mapping of
// the properties: read the stream (the actions Lambda's developer guide lists for a Kinesis mapping) and, from a
// consumer, subscribe to its shards; and send failed batches to the on-failure destination (an S3 bucket, an SQS queue
// or an SNS topic).
func subExecutionProblems(policies []*policy, props map[string]any) []string {
	source := fmt.Sprint(props["EventSourceArn"])
	stream, isConsumer := consumerStream(source)
	if !isConsumer {
		stream = source
	}
	need := []request{}
	for _, a := range []string{"DescribeStream", "DescribeStreamSummary", "GetRecords", "GetShardIterator", "ListShards"} {
		need = append(need, request{Action: "kinesis:" + a, Resource: stream})
	}
	if isConsumer {
		need = append(need, request{Action: "kinesis:SubscribeToShard", Resource: source}, request{Action: "kinesis:DescribeStreamConsumer", Resource: source})
	}
	if d, ok := props["OnFailureDestination"].(string); ok {
		switch {
		case strings.HasPrefix(d, "arn:aws:s3:::"):
			need = append(need, request{Action: "s3:PutObject", Resource: d + "/rehearsal/failed-batch"}, request{Action: "s3:ListBucket", Resource: d})
		case strings.HasPrefix(d, "arn:aws:sqs:"):
			need = append(need, request{Action: "sqs:SendMessage", Resource: d})
		case strings.HasPrefix(d, "arn:aws:sns:"):
			need = append(need, request{Action: "sns:Publish", Resource: d})
		}
	}
	var out []string
	for _, req := range need {
		if evaluate(policies, req, func(string) {}) != allowed {
			out = append(out, fmt.Sprintf("its function's role does not allow %s on %s", req.Action, req.Resource))
		}
	}
	return out
}
