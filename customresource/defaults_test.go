package customresource_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/eventlake/eventlake/customresource"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// refusing is a response URL that answers every PUT with 503 and counts them.
func refusing(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var puts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		puts.Add(1)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv, &puts
}

func succeed(context.Context, cfn.Event) (string, map[string]any, error) { return "id-1", nil, nil }

func TestDefaultsKeep10SecondsBackAndAnswer(t *testing.T) {
	// GIVEN a wrapped handler with no options but a logger, and a function deadline an hour away
	r := newRecorder(t, 0)
	var handlerDeadline time.Time
	wrapped := customresource.Wrap(func(ctx context.Context, _ cfn.Event) (string, map[string]any, error) {
		handlerDeadline, _ = ctx.Deadline()
		return "id-1", nil, nil
	}, customresource.Options{Logger: quiet})
	deadline := time.Now().Add(time.Hour)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	// WHEN CloudFormation's event comes
	err := wrapped(ctx, cfn.Event{RequestType: cfn.RequestCreate, RequestID: "req-1", ResponseURL: r.URL})

	// THEN the handler's time ends 10 s before the function's, kept back to answer
	if err != nil {
		t.Fatal(err)
	}
	if kept := deadline.Sub(handlerDeadline); kept != 10*time.Second {
		t.Errorf("the handler's deadline is %v before the function's, want the default reserve of 10s", kept)
	}
	// AND the default HTTP client delivers the answer
	if len(r.answers) != 1 || r.answers[0].Status != cfn.StatusSuccess {
		t.Errorf("answers %+v, want one SUCCESS", r.answers)
	}
}

func TestAnswerAttemptsAreCountedAndTheLastFailureReported(t *testing.T) {
	for _, tc := range []struct {
		name     string
		attempts int
		want     int32
	}{
		{"default", 0, 5},
		{"three", 3, 3},
		{"one", 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN a response URL that refuses every answer
			srv, puts := refusing(t)
			wrapped := customresource.Wrap(succeed, customresource.Options{
				Logger: quiet, ResponseAttempts: tc.attempts, ResponseMaxBackoff: time.Millisecond,
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			// WHEN the handler has succeeded and the answer is sent
			err := wrapped(ctx, cfn.Event{RequestType: cfn.RequestCreate, RequestID: "req-1", ResponseURL: srv.URL})

			// THEN it is sent exactly ResponseAttempts times (5 by default), and the error says so with the last failure
			if n := puts.Load(); n != tc.want {
				t.Errorf("%d PUTs, want %d", n, tc.want)
			}
			want := fmt.Sprintf("answer not delivered after %d attempts: response URL answered 503 Service Unavailable", tc.want)
			if err == nil || err.Error() != want {
				t.Errorf("error %v, want %q", err, want)
			}
		})
	}
}

func TestDefaultBackoffSpacesTheAnswers(t *testing.T) {
	// GIVEN a response URL that refuses every answer, the default backoff (up to 2 s between attempts), and 300 ms
	// left to the function
	srv, puts := refusing(t)
	wrapped := customresource.Wrap(succeed, customresource.Options{Logger: quiet, Reserve: time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	// WHEN the answer is sent
	err := wrapped(ctx, cfn.Event{RequestType: cfn.RequestCreate, RequestID: "req-1", ResponseURL: srv.URL})

	// THEN the URL is not hammered: the first wait is up to 2 s and the second one 2 s, so two attempts at most fit
	if n := puts.Load(); n < 1 || n > 2 {
		t.Errorf("%d PUTs in 300 ms, want 1 or 2", n)
	}
	// AND the sending stops when the function's time is up, with the last failure and the reason it stopped
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "503") {
		t.Errorf("error %v, want the 503 and the deadline", err)
	}
}
