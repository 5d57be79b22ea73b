// Package customres runs CloudFormation custom resources the way CloudFormation does, for the deploy rehearsal: it
// sends the function a Create, Update or Delete event whose ResponseURL is a local HTTP server standing in for the
// pre-signed S3 URL, and waits for the answer the function PUTs there.
//
// What it emulates: the event's fields (RequestType, RequestId, ResponseURL, ResourceType, LogicalResourceId, StackId,
// PhysicalResourceId for Update and Delete, ResourceProperties with the ServiceToken, OldResourceProperties for
// Update), one answer per request, the answer's required fields and its 4,096-byte limit, and the service timeout.
// What it does not: CloudFormation's asynchronous invocation and its retries (the caller invokes the function the way
// it chooses), the rollback that a FAILED answer starts, and properties as strings: CloudFormation hands every scalar
// property to a custom resource as a string, so Run converts numbers and booleans to strings as it does.
package customres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
)

// Invoker runs the custom resource's function with one event. *lambdart.Function satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// MaxAnswerBytes is CloudFormation's limit for a custom resource's answer.
const MaxAnswerBytes = 4096

// Request is what CloudFormation asks of the resource.
type Request struct {
	// Type is Create, Update or Delete.
	Type cfn.RequestType
	// ResourceType is the template's type, such as "Custom::EventlakeSubscription".
	ResourceType string
	// LogicalResourceID is the resource's logical id in the template.
	LogicalResourceID string
	// StackID is the stack's ARN.
	StackID string
	// PhysicalResourceID is the id the last answer gave: required for Update and Delete.
	PhysicalResourceID string
	// Properties are the resource's properties, resolved, with its ServiceToken.
	Properties map[string]any
	// OldProperties are the properties before an Update.
	OldProperties map[string]any
}

// Runner serves the response URLs and matches each answer to its request.
type Runner struct {
	srv     *http.Server
	url     string
	mu      sync.Mutex
	n       int
	waiting map[string]chan answer
}

type answer struct {
	resp cfn.Response
	err  error
}

// NewRunner starts the local response server on a loopback port.
func NewRunner() (*Runner, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("customres: listen: %w", err)
	}
	r := &Runner{url: "http://" + ln.Addr().String(), waiting: map[string]chan answer{}}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(ln)
	return r, nil
}

// Close stops the response server.
func (r *Runner) Close() error { return r.srv.Close() }

// serve takes a PUT of an answer, as S3 takes it at the pre-signed URL.
func (r *Runner) serve(w http.ResponseWriter, req *http.Request) {
	id := req.URL.Path[1:]
	r.mu.Lock()
	ch, ok := r.waiting[id]
	delete(r.waiting, id) // one answer per request: a second PUT finds nothing
	r.mu.Unlock()
	if !ok {
		http.Error(w, "no request waits for an answer at "+req.URL.Path, http.StatusNotFound)
		return
	}
	if req.Method != http.MethodPut {
		ch <- answer{err: fmt.Errorf("answer sent with %s, want PUT", req.Method)}
		http.Error(w, "PUT only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxAnswerBytes+1))
	if err != nil {
		ch <- answer{err: fmt.Errorf("read answer: %w", err)}
		return
	}
	if len(body) > MaxAnswerBytes {
		ch <- answer{err: fmt.Errorf("answer of more than %d bytes, CloudFormation's limit", MaxAnswerBytes)}
		http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		return
	}
	var a answer
	if err := json.Unmarshal(body, &a.resp); err != nil {
		a.err = fmt.Errorf("answer is not JSON: %w: %s", err, body)
	}
	ch <- a
}

// ErrNoAnswer is the error of a request whose function never answered within the service timeout.
var ErrNoAnswer = errors.New("customres: no answer within the service timeout")

// Run sends req to fn and returns the answer it PUT, within timeout (the resource's service timeout; CloudFormation's
// default is an hour). The answer is checked as CloudFormation checks it: the request's ids echoed, a status of
// SUCCESS or FAILED, a physical id, and a reason with FAILED. The function's own result is returned too: an error
// there with an answer is not a failure of the resource.
func (r *Runner) Run(ctx context.Context, fn Invoker, req Request, timeout time.Duration) (*cfn.Response, error) {
	r.mu.Lock()
	r.n++
	id := fmt.Sprintf("request-%d-%d", time.Now().UnixNano(), r.n)
	ch := make(chan answer, 1)
	r.waiting[id] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}()

	event := cfn.Event{
		RequestType: req.Type, RequestID: id, ResponseURL: r.url + "/" + id, ResourceType: req.ResourceType,
		PhysicalResourceID: req.PhysicalResourceID, LogicalResourceID: req.LogicalResourceID, StackID: req.StackID,
		ResourceProperties: Stringify(req.Properties), OldResourceProperties: Stringify(req.OldProperties),
	}
	payload, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("customres: encode the %s event of %s: %w", req.Type, req.LogicalResourceID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	invoked := make(chan error, 1)
	go func() {
		_, err := fn.Invoke(ctx, payload)
		invoked <- err
	}()
	var fnErr error
	for {
		select {
		case a := <-ch:
			if a.err != nil {
				return nil, fmt.Errorf("customres: %s of %s: %w", req.Type, req.LogicalResourceID, a.err)
			}
			return &a.resp, check(event, a.resp)
		case err := <-invoked:
			fnErr, invoked = err, nil // keep waiting: the answer may come after the function returns, never from it
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (%s of %s, %v; the function returned: %v)", ErrNoAnswer, req.Type, req.LogicalResourceID, timeout, fnErr)
		}
	}
}

// check applies CloudFormation's rules to an answer.
func check(event cfn.Event, resp cfn.Response) error {
	var problems []error
	if resp.RequestID != event.RequestID || resp.LogicalResourceID != event.LogicalResourceID || resp.StackID != event.StackID {
		problems = append(problems, fmt.Errorf("answer's ids (%q, %q, %q) are not the request's", resp.RequestID, resp.LogicalResourceID, resp.StackID))
	}
	if resp.Status != cfn.StatusSuccess && resp.Status != cfn.StatusFailed {
		problems = append(problems, fmt.Errorf("answer's Status is %q, want SUCCESS or FAILED", resp.Status))
	}
	if resp.PhysicalResourceID == "" {
		problems = append(problems, errors.New("answer has no PhysicalResourceId"))
	}
	if resp.Status == cfn.StatusFailed && resp.Reason == "" {
		problems = append(problems, errors.New("FAILED answer has no Reason"))
	}
	if event.RequestType == cfn.RequestDelete && resp.PhysicalResourceID != event.PhysicalResourceID {
		problems = append(problems, fmt.Errorf("Delete answered with PhysicalResourceId %q, not the resource's %q", resp.PhysicalResourceID, event.PhysicalResourceID))
	}
	return errors.Join(problems...)
}

// Stringify converts properties as CloudFormation hands them to a custom resource: every number and boolean becomes
// its string, in nested maps and lists too.
func Stringify(props map[string]any) map[string]any {
	if props == nil {
		return nil
	}
	return stringify(props).(map[string]any)
}

func stringify(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = stringify(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = stringify(x)
		}
		return out
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	case int:
		return strconv.Itoa(v)
	default:
		return v
	}
}
