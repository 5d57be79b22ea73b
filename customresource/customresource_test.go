package customresource_test

import (
	"context"
	"encoding/json"
	"errors"
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

	"github.com/eventlake/eventlake/customresource"
)

type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	answers []cfn.Response
	puts    atomic.Int32
	fail    int32
}

func newRecorder(t *testing.T, fail int32) *recorder {
	r := &recorder{fail: fail}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if n := r.puts.Add(1); n <= r.fail {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		var a cfn.Response
		body, _ := io.ReadAll(req.Body)
		json.Unmarshal(body, &a)
		r.mu.Lock()
		r.answers = append(r.answers, a)
		r.mu.Unlock()
	}))
	t.Cleanup(r.Close)
	return r
}

func run(t *testing.T, r *recorder, h customresource.Handler, ev cfn.Event, timeout time.Duration) (cfn.Response, time.Duration) {
	t.Helper()
	ev.ResponseURL = r.URL
	ev.RequestID, ev.LogicalResourceID, ev.StackID = "req-12345678-abcd", "Sub", "stack"
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	wrapped := customresource.Wrap(h, customresource.Options{Reserve: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := wrapped(ctx, ev); err != nil {
		t.Fatalf("wrapped handler: %v", err)
	}
	if len(r.answers) != 1 {
		t.Fatalf("%d answers, want exactly 1", len(r.answers))
	}
	return r.answers[0], time.Since(start)
}

func TestAnswersOnPanic(t *testing.T) {
	a, _ := run(t, newRecorder(t, 0), func(context.Context, cfn.Event) (string, map[string]any, error) {
		var m map[string]int
		m["boom"]++
		return "", nil, nil
	}, cfn.Event{RequestType: cfn.RequestCreate}, 5*time.Second)
	if a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, "panic") || a.PhysicalResourceID == "" {
		t.Errorf("answer %+v", a)
	}
	if !strings.HasPrefix(a.PhysicalResourceID, customresource.FailedCreatePrefix) {
		t.Errorf("physical id of a failed Create %q should say nothing was created", a.PhysicalResourceID)
	}
}

func TestAnswersBeforeTheDeadline(t *testing.T) {
	a, took := run(t, newRecorder(t, 0), func(ctx context.Context, _ cfn.Event) (string, map[string]any, error) {
		time.Sleep(time.Hour) // ignores its context, like a stuck call would
		return "", nil, nil
	}, cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: "uuid-1"}, 1*time.Second)
	if a.Status != cfn.StatusFailed || !strings.Contains(a.Reason, "time limit") || a.PhysicalResourceID != "uuid-1" {
		t.Errorf("answer %+v", a)
	}
	if took > time.Second {
		t.Errorf("answered after %v, past the 1 s deadline", took)
	}
}

func TestRetriesTheAnswer(t *testing.T) {
	r := newRecorder(t, 2)
	a, _ := run(t, r, func(context.Context, cfn.Event) (string, map[string]any, error) {
		return "uuid-2", map[string]any{"UUID": "uuid-2"}, nil
	}, cfn.Event{RequestType: cfn.RequestCreate}, 10*time.Second)
	if a.Status != cfn.StatusSuccess || a.PhysicalResourceID != "uuid-2" || a.Data["UUID"] != "uuid-2" || r.puts.Load() != 3 {
		t.Errorf("answer %+v after %d PUTs", a, r.puts.Load())
	}
}

func TestErrorKeepsThePhysicalIDAndTheReason(t *testing.T) {
	a, _ := run(t, newRecorder(t, 0), func(context.Context, cfn.Event) (string, map[string]any, error) {
		return "", nil, errors.New("property BatchSize = \"0\": must be from 1 to 10000")
	}, cfn.Event{RequestType: cfn.RequestUpdate, PhysicalResourceID: "uuid-3"}, 5*time.Second)
	if a.Status != cfn.StatusFailed || a.PhysicalResourceID != "uuid-3" || !strings.Contains(a.Reason, "BatchSize") {
		t.Errorf("answer %+v", a)
	}
}
