// Package customresource runs a CloudFormation custom resource handler so that CloudFormation always gets an answer:
// on success, on an error, on a panic, and before the Lambda function's own deadline. The answer carries a non-empty
// physical id and, on failure, the specific reason; the PUT to the pre-signed response URL is retried with jittered
// exponential backoff. An event that has no response URL to answer to is refused before the handler runs.
//
// It is in the spirit of aws-lambda-go's cfn.LambdaWrap, which answers on error but not on a panic or a timeout,
// and sends its answer once.
//
// Custom resource protocol: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref.html
package customresource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Handler handles one custom resource event. It returns the physical id of the resource (empty keeps the event's
// own, or makes one up on a Create that failed) and the attributes Fn::GetAtt can read.
type Handler func(ctx context.Context, event cfn.Event) (physicalID string, data map[string]any, err error)

// Options tune [Wrap].
type Options struct {
	// Reserve is the time kept back from the function's deadline to answer CloudFormation. Default 10 s.
	Reserve time.Duration
	// HTTPClient sends the answer. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Logger logs each event and answer. Default slog.Default().
	Logger *slog.Logger
	// ResponseAttempts is how many times the answer is sent before giving up. Default 5.
	ResponseAttempts int
	// ResponseMaxBackoff caps the wait between two attempts to send the answer: the SDK's jittered exponential
	// backoff (retry.ExponentialJitterBackoff), a random wait of up to 2^attempt seconds, and ResponseMaxBackoff once
	// that exceeds it. Default 2 s, so that the waits between the default five attempts (8 s at most) fit in the
	// default Reserve.
	ResponseMaxBackoff time.Duration
}

// ErrNoResponseURL is the error, wrapped, of an event without an http(s) ResponseURL: there is nowhere to answer, so
// the handler is not run (an event that is not from CloudFormation must not create or delete anything).
var ErrNoResponseURL = errors.New("the event has no http(s) ResponseURL to answer to")

// maxReason keeps the answer well inside CloudFormation's 4,096-byte limit for a response.
const maxReason = 2048

// Wrap returns a Lambda handler that runs h and always answers CloudFormation. The handler's context ends Reserve
// before the function's deadline; if h has not returned by then, the answer is FAILED with a reason that says so.
func Wrap(h Handler, opts Options) func(ctx context.Context, event cfn.Event) error {
	if opts.Reserve == 0 {
		opts.Reserve = 10 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ResponseAttempts == 0 {
		opts.ResponseAttempts = 5
	}
	if opts.ResponseMaxBackoff == 0 {
		opts.ResponseMaxBackoff = 2 * time.Second
	}
	return func(ctx context.Context, event cfn.Event) error {
		log := opts.Logger.With("requestType", event.RequestType, "logicalResourceId", event.LogicalResourceID,
			"physicalResourceId", event.PhysicalResourceID, "stackId", event.StackID, "requestId", event.RequestID)
		if !answerable(event.ResponseURL) {
			// Retrying cannot make a URL appear; nor would an error from the handler reach anyone.
			log.Error("not running the handler: nowhere to answer", "error", ErrNoResponseURL)
			return fmt.Errorf("custom resource request %q: %w", event.RequestID, ErrNoResponseURL)
		}
		work := ctx
		cancel := func() {}
		if deadline, ok := ctx.Deadline(); ok {
			work, cancel = context.WithDeadline(ctx, deadline.Add(-opts.Reserve))
		}
		defer cancel()

		type result struct {
			id   string
			data map[string]any
			err  error
		}
		done := make(chan result, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					log.Error("handler panicked", "panic", p, "stack", string(debug.Stack()))
					done <- result{err: fmt.Errorf("internal error (panic): %v", p)}
				}
			}()
			id, data, err := h(work, event)
			done <- result{id, data, err}
		}()

		var r result
		select {
		case r = <-done:
		case <-work.Done():
			r = result{err: fmt.Errorf("no result within the function's time limit (%v kept back to answer): %w", opts.Reserve, work.Err())}
		}

		resp := cfn.NewResponse(&event)
		resp.PhysicalResourceID = physicalID(event, r.id)
		if r.err != nil {
			resp.Status = cfn.StatusFailed
			resp.Reason = truncate(r.err.Error(), maxReason)
			log.Error("answering FAILED", "reason", resp.Reason, "answerPhysicalResourceId", resp.PhysicalResourceID)
		} else {
			resp.Status = cfn.StatusSuccess
			resp.Data = r.data
			log.Info("answering SUCCESS", "answerPhysicalResourceId", resp.PhysicalResourceID)
		}
		// The answer may use the whole remaining time, the reserve included.
		return send(ctx, opts, event.ResponseURL, resp, log)
	}
}

// answerable reports whether the response URL is an absolute http(s) URL.
func answerable(responseURL string) bool {
	u, err := url.Parse(responseURL)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// physicalID keeps CloudFormation's contract: never empty, and stable for Update and Delete unless the handler
// replaced the resource.
func physicalID(event cfn.Event, fromHandler string) string {
	switch {
	case fromHandler != "":
		return fromHandler
	case event.PhysicalResourceID != "":
		return event.PhysicalResourceID
	default:
		// A Create that failed before it made anything: a Delete with this id must find nothing to do.
		return FailedCreatePrefix + event.LogicalResourceID + "-" + shortID(event.RequestID)
	}
}

// FailedCreatePrefix starts the physical id answered for a Create that made nothing. A handler's Delete should treat
// such an id as already deleted.
const FailedCreatePrefix = "not-created-"

func shortID(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// send PUTs the answer to the pre-signed URL, retrying with jittered backoff while time remains.
func send(ctx context.Context, opts Options, responseURL string, resp *cfn.Response, log *slog.Logger) error {
	body, err := json.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	backoff := retry.NewExponentialJitterBackoff(opts.ResponseMaxBackoff)
	var last error
	for attempt := 1; attempt <= opts.ResponseAttempts; attempt++ {
		if last = put(ctx, opts.HTTPClient, responseURL, body); last == nil {
			return nil
		}
		log.Warn("sending the answer failed", "attempt", attempt, "error", last)
		if attempt == opts.ResponseAttempts {
			break
		}
		delay, err := backoff.BackoffDelay(attempt, last)
		if err != nil {
			return errors.Join(last, err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(last, ctx.Err())
		case <-time.After(delay):
		}
	}
	return fmt.Errorf("answer not delivered after %d attempts: %w", opts.ResponseAttempts, last)
}

func put(ctx context.Context, client *http.Client, responseURL string, body []byte) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPut, responseURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	req.Header.Del("Content-Type") // the pre-signed URL is signed without one
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("response URL answered %s", res.Status)
	}
	return nil
}
