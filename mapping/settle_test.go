package mapping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/eventlake/eventlake/mapping"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// inState answers GetEventSourceMapping with the mapping (its UUID from the request's path) in a transitional state.
func inState(state string) fault.Fault {
	return func(req *http.Request) (*http.Response, error) {
		return fault.JSON(200, fmt.Sprintf(`{"UUID":%q,"State":%q}`, path.Base(req.URL.Path), state))(req)
	}
}

// accessDenied is Lambda's answer to a role without lambda:GetEventSourceMapping.
var accessDenied = fault.JSONError(403, "AccessDeniedException",
	"User: arn:aws:sts::123456789012:assumed-role/mapper/fn is not authorized to perform: lambda:GetEventSourceMapping")

// TestCreateWaitsForTheMappingToSettle: while Lambda reports the new mapping Creating, the mapper polls it, waiting
// PollInterval first and twice as long each time after (500 ms first when PollInterval is not set), and returns the
// settled mapping. It logs the mapping it created to its Logger.
func TestCreateWaitsForTheMappingToSettle(t *testing.T) {
	for _, c := range []struct {
		poll, first time.Duration
		creating    int
	}{{20 * time.Millisecond, 20 * time.Millisecond, 2}, {0, 500 * time.Millisecond, 1}} {
		t.Run(fmt.Sprint("poll ", c.poll), func(t *testing.T) {
			// GIVEN a Lambda that reports the new mapping Creating the first times it is read
			var at []time.Time
			creating := &fault.Injector{Operation: "GetEventSourceMapping", Times: c.creating, Fault: inState("Creating"),
				Match: func(fault.Call) bool { at = append(at, time.Now()); return true }}
			e := newEnv(t, creating)
			fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("settle-%d", time.Now().UnixNano()))
			var logs bytes.Buffer
			m := &mapping.Mapper{Client: e.lc, Logger: slog.New(slog.NewJSONHandler(&logs, nil)), PollInterval: c.poll}
			p, err := mapping.ParseProperties(props(fn, e.stream))
			if err != nil {
				t.Fatal(err)
			}

			// WHEN the mapping is created
			out, err := m.Create(context.Background(), p)

			// THEN the mapper read it until it settled, waiting PollInterval, then twice that
			if err != nil || aws.ToString(out.State) == "Creating" {
				t.Fatalf("Create: %+v, %v; want the settled mapping", out, err)
			}
			if len(at) != c.creating+1 {
				t.Fatalf("mapping read %d times, want %d", len(at), c.creating+1)
			}
			for i := 1; i < len(at); i++ {
				if gap, want := at[i].Sub(at[i-1]), c.first<<(i-1); gap < want {
					t.Errorf("read %d came %v after the one before, want at least %v", i+1, gap, want)
				}
			}
			var line struct{ Msg, UUID, Function string }
			for l := range strings.Lines(logs.String()) {
				if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "created mapping" {
					break
				}
			}
			if line.Msg != "created mapping" || line.UUID != aws.ToString(out.UUID) || line.Function != fn {
				t.Errorf("log %s; want the created mapping %s of %s", logs.String(), aws.ToString(out.UUID), fn)
			}
		})
	}
}

// TestMappingThatCannotBeReadFailsWithItsUUID: a role that may create mappings but not read them gets FAILED, and the
// answer's physical id is the mapping made, so that CloudFormation's rollback deletes it; that delete fails too,
// naming the mapping, as the mapper cannot see it go.
func TestMappingThatCannotBeReadFailsWithItsUUID(t *testing.T) {
	// GIVEN a Lambda that refuses every GetEventSourceMapping
	denied := &fault.Injector{Operation: "GetEventSourceMapping", Fault: accessDenied}
	e := newEnv(t, denied)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("denied-%d", time.Now().UnixNano()))

	// WHEN CloudFormation creates the subscription
	a := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)

	// THEN the mapping was made, and CloudFormation is told FAILED with its UUID and the reason
	list, err := lambda.NewFromConfig(e.cfg).ListEventSourceMappings(context.Background(), &lambda.ListEventSourceMappingsInput{EventSourceArn: &e.stream})
	if err != nil || len(list.EventSourceMappings) != 1 {
		t.Fatalf("mappings on the stream: %+v, %v; want 1", list, err)
	}
	uuid := aws.ToString(list.EventSourceMappings[0].UUID)
	if a.Status != cfn.StatusFailed || a.PhysicalResourceID != uuid || !strings.Contains(a.Reason, "read mapping "+uuid) ||
		!strings.Contains(a.Reason, "AccessDeniedException") {
		t.Errorf("create answered %s %q: %s; want FAILED, physical id %s, the read refused", a.Status, a.PhysicalResourceID, a.Reason, uuid)
	}
	if denied.Calls() != 1 {
		t.Errorf("%d reads, want 1: access denied is not retried", denied.Calls())
	}

	// WHEN CloudFormation rolls back: it deletes that physical id
	d := e.send(t, cfn.RequestDelete, a.PhysicalResourceID, props(fn, e.stream), nil)

	// THEN the mapping is deleted, and the answer is FAILED as its end cannot be seen
	if d.Status != cfn.StatusFailed || !strings.Contains(d.Reason, "wait for mapping "+uuid+" to be deleted") || !strings.Contains(d.Reason, "AccessDeniedException") {
		t.Errorf("delete answered %s: %s; want FAILED waiting for %s", d.Status, d.Reason, uuid)
	}
	if n := len(e.mappingsOnStream(t)); n != 0 {
		t.Errorf("%d mappings on the stream, want 0", n)
	}
}

// TestDeleteWaitsUntilTheMappingIsGone: while Lambda reports the mapping Deleting, the delete is not done.
func TestDeleteWaitsUntilTheMappingIsGone(t *testing.T) {
	// GIVEN a subscription whose mapping Lambda reports Deleting once after the delete
	var deleting atomic.Bool
	still := &fault.Injector{Operation: "GetEventSourceMapping", Times: 1, Fault: inState("Deleting"),
		Match: func(fault.Call) bool { return deleting.Load() }}
	e := newEnv(t, still)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("deleting-%d", time.Now().UnixNano()))
	created := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
	if created.Status != cfn.StatusSuccess {
		t.Fatalf("create answered %s: %s", created.Status, created.Reason)
	}
	before := still.Calls()
	deleting.Store(true)

	// WHEN CloudFormation deletes it
	d := e.send(t, cfn.RequestDelete, created.PhysicalResourceID, props(fn, e.stream), nil)

	// THEN the mapper read it until Lambda answered it does not exist
	if d.Status != cfn.StatusSuccess || still.Injected() != 1 || still.Calls()-before != 2 {
		t.Errorf("delete answered %s %q after %d reads (%d Deleting); want SUCCESS after 2 (1)", d.Status, d.Reason, still.Calls()-before, still.Injected())
	}
	if e.mapping(t, created.PhysicalResourceID) != nil {
		t.Error("the mapping is still there")
	}
}

// TestMapperGivesUpWhenTheContextEnds: a mapping that stays in a transitional state until the context ends (the
// function's deadline) fails the call, naming the state it is stuck in and the context's error.
func TestMapperGivesUpWhenTheContextEnds(t *testing.T) {
	// GIVEN a Lambda that reports every mapping in the state stuck, and ends the context at the third read
	var stuck atomic.Value
	var reads atomic.Int32
	var cancel atomic.Value
	transitional := &fault.Injector{Operation: "GetEventSourceMapping", Fault: func(req *http.Request) (*http.Response, error) {
		if reads.Add(1) == 3 {
			cancel.Load().(context.CancelFunc)()
		}
		return inState(stuck.Load().(string))(req)
	}}
	e := newEnv(t, transitional)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("stuck-%d", time.Now().UnixNano()))
	m := &mapping.Mapper{Client: e.lc, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PollInterval: time.Millisecond}
	p, err := mapping.ParseProperties(props(fn, e.stream))
	if err != nil {
		t.Fatal(err)
	}
	run := func(state string, call func(context.Context) error) error {
		stuck.Store(state)
		reads.Store(0)
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		cancel.Store(stop)
		return call(ctx)
	}

	// WHEN a mapping is created and stays Creating
	var out *lambda.GetEventSourceMappingOutput
	err = run("Creating", func(ctx context.Context) (err error) { out, err = m.Create(ctx, p); return err })

	// THEN Create fails, naming it and its state
	if err == nil || out == nil || err.Error() != "mapping "+aws.ToString(out.UUID)+" is still Creating: context canceled" {
		t.Fatalf("Create: %+v, %v; want the mapping still Creating when the context ended", out, err)
	}

	// WHEN it is deleted and stays Deleting
	err = run("Deleting", func(ctx context.Context) error { return m.Delete(ctx, aws.ToString(out.UUID)) })

	// THEN Delete fails, naming it
	if err == nil || err.Error() != "mapping "+aws.ToString(out.UUID)+" is still being deleted: context canceled" {
		t.Errorf("Delete: %v; want the mapping still being deleted when the context ended", err)
	}
}

// TestDeleteAnswered404IsDone: a mapping whose delete Lambda answers 404 is gone, whatever the answer's error code.
func TestDeleteAnswered404IsDone(t *testing.T) {
	gone := &fault.Injector{Operation: "DeleteEventSourceMapping", Fault: fault.JSON(404, `{"message":"Not Found"}`)}
	e := newEnv(t, gone)
	fn := moto.NewFunction(t, e.cfg, fmt.Sprintf("gone-%d", time.Now().UnixNano()))
	created := e.send(t, cfn.RequestCreate, "", props(fn, e.stream), nil)
	if created.Status != cfn.StatusSuccess {
		t.Fatalf("create answered %s: %s", created.Status, created.Reason)
	}
	a := e.send(t, cfn.RequestDelete, created.PhysicalResourceID, props(fn, e.stream), nil)
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != created.PhysicalResourceID || gone.Injected() != 1 {
		t.Errorf("delete answered %s %q: %s after %d 404s; want SUCCESS after 1", a.Status, a.PhysicalResourceID, a.Reason, gone.Injected())
	}
}
