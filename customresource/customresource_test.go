package customresource_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	wrapped := customresource.Wrap(h, customresource.Options{
		Reserve: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ResponseMaxBackoff: 10 * time.Millisecond,
	})
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

// roundTripper counts the requests of an http.Client and fails them.
type roundTripper struct{ requests atomic.Int32 }

func (r *roundTripper) RoundTrip(*http.Request) (*http.Response, error) {
	r.requests.Add(1)
	return nil, errors.New("no network in this test")
}

func TestRefusesAnEventWithoutResponseURL(t *testing.T) {
	for _, responseURL := range []string{"", "relative/path", "ftp://example.com/answer", "https://"} {
		t.Run(fmt.Sprintf("%q", responseURL), func(t *testing.T) {
			var logged bytes.Buffer
			transport := &roundTripper{}
			var handled atomic.Int32
			wrapped := customresource.Wrap(func(context.Context, cfn.Event) (string, map[string]any, error) {
				handled.Add(1)
				return "made-something", nil, nil
			}, customresource.Options{
				Logger:     slog.New(slog.NewJSONHandler(&logged, nil)),
				HTTPClient: &http.Client{Transport: transport},
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := wrapped(ctx, cfn.Event{RequestType: cfn.RequestDelete, RequestID: "req-no-url", LogicalResourceID: "Sub",
				PhysicalResourceID: "uuid-4", StackID: "stack", ResponseURL: responseURL})

			if !errors.Is(err, customresource.ErrNoResponseURL) || !strings.Contains(err.Error(), "req-no-url") {
				t.Errorf("error %v, want ErrNoResponseURL naming the request", err)
			}
			if n := handled.Load(); n != 0 {
				t.Errorf("the handler ran %d times for an event nobody can be answered about", n)
			}
			if n := transport.requests.Load(); n != 0 {
				t.Errorf("%d attempts to send the answer, want none", n)
			}
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Errorf("took %v: retried?", took)
			}
			lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], `"level":"ERROR"`) || !strings.Contains(lines[0], "req-no-url") {
				t.Errorf("logged %d lines, want one error naming the request:\n%s", len(lines), logged.String())
			}
		})
	}
}
