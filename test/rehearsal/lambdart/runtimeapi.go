package lambdart

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Runtime API paths and headers (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
const (
	runtimePrefix = "/2018-06-01/runtime/"

	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadline        = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerClientContext   = "Lambda-Runtime-Client-Context"
	headerCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	headerErrorBody       = "Lambda-Runtime-Function-Error-Body"
)

// MaxResponseBytes is the largest response Lambda accepts from a runtime for a synchronous invocation; a larger one
// fails the invocation with [ErrorTypeResponseTooLarge].
const MaxResponseBytes = 6291556

// An Invocation is one invocation as the runtime receives it from GET /runtime/invocation/next.
type Invocation struct {
	// Payload is the event; the body of the /next response.
	Payload []byte
	// RequestID is the invocation's id (Lambda-Runtime-Aws-Request-Id); a random UUID when empty.
	RequestID string
	// InvokedFunctionARN is the ARN the invoker used (Lambda-Runtime-Invoked-Function-Arn). [Function.Run] sets it
	// to the function's ARN when empty.
	InvokedFunctionARN string
	// TraceID is the X-Ray trace header (Lambda-Runtime-Trace-Id); a new unsampled trace when empty.
	TraceID string
	// ClientContext is the client context JSON (Lambda-Runtime-Client-Context), sent when not empty.
	ClientContext string
	// CognitoIdentity is the Cognito identity JSON (Lambda-Runtime-Cognito-Identity), sent when not empty.
	CognitoIdentity string
	// Timeout sets the deadline (Lambda-Runtime-Deadline-Ms): the moment the runtime takes the invocation, plus
	// Timeout. [Function.Run] sets it to the function's timeout.
	Timeout time.Duration
}

// A Call is an invocation handed to a [RuntimeAPI]: it waits for the runtime to take it, then for its answer.
type Call struct {
	inv       Invocation
	delivered chan struct{}
	deadline  time.Time
	done      chan struct{}
	once      sync.Once
	response  []byte
	err       error
}

// RequestID is the invocation's id.
func (c *Call) RequestID() string { return c.inv.RequestID }

// Delivered is closed when the runtime has taken the invocation from /next.
func (c *Call) Delivered() <-chan struct{} { return c.delivered }

// Deadline is the invocation's deadline, as sent to the runtime; zero before [Call.Delivered] is closed.
func (c *Call) Deadline() time.Time {
	select {
	case <-c.delivered:
		return c.deadline
	default:
		return time.Time{}
	}
}

// Done is closed when the runtime has answered the invocation, with a response or an error.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result is the runtime's answer, once [Call.Done] is closed: the response bytes, or a *[FunctionError].
func (c *Call) Result() ([]byte, error) {
	<-c.done
	return c.response, c.err
}

func (c *Call) finish(response []byte, err error) bool {
	finished := false
	c.once.Do(func() {
		c.response, c.err = response, err
		close(c.done)
		finished = true
	})
	return finished
}

// A RuntimeAPI is a stand-in of the Lambda Runtime API for one execution environment: an HTTP server on a loopback
// port whose address is the runtime's AWS_LAMBDA_RUNTIME_API. It serves
//
//   - GET /2018-06-01/runtime/invocation/next: long-polls until an invocation is sent with [RuntimeAPI.Send], then
//     answers with its payload and the Lambda-Runtime-* headers;
//   - POST /2018-06-01/runtime/invocation/{id}/response: the invocation's response (202). A response larger than
//     [MaxResponseBytes] is refused (413) and fails the invocation; error trailers of a streamed response
//     (Lambda-Runtime-Function-Error-Type and -Body, as aws-lambda-go sends when its response reader fails) make
//     it a [FunctionError];
//   - POST /2018-06-01/runtime/invocation/{id}/error: the invocation's error (202), a [FunctionError];
//   - POST /2018-06-01/runtime/init/error: an initialization error (202), see [RuntimeAPI.InitError];
//   - POST /2020-01-01/extension/register and GET /2020-01-01/extension/event/next: just enough of the Extensions
//     API for aws-lambda-go's WithEnableSIGTERM to register; no lifecycle event is ever sent.
//
// An unknown request id gets 400. It is one runtime's API: the invocations it hands out go to whichever client asks
// for the next one.
type RuntimeAPI struct {
	ln  net.Listener
	srv *http.Server

	queue  chan *Call
	closed chan struct{}
	close  sync.Once

	ready     chan struct{}
	readyOnce sync.Once

	initFailed chan struct{}
	initOnce   sync.Once
	initErr    *FunctionError

	mu       sync.Mutex
	inflight map[string]*Call
}

// NewRuntimeAPI starts a Runtime API on a free port of 127.0.0.1.
func NewRuntimeAPI() (*RuntimeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtime API: %w", err)
	}
	a := &RuntimeAPI{
		ln:         ln,
		queue:      make(chan *Call, 64),
		closed:     make(chan struct{}),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		inflight:   map[string]*Call{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"invocation/next", a.next)
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/response", a.response)
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/error", a.invocationError)
	mux.HandleFunc("POST "+runtimePrefix+"init/error", a.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", a.registerExtension)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", a.extensionNext)
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

// Addr is the API's host:port, the value of AWS_LAMBDA_RUNTIME_API.
func (a *RuntimeAPI) Addr() string { return a.ln.Addr().String() }

// Close stops the server and drops its connections. Invocations not answered yet never will be.
func (a *RuntimeAPI) Close() error {
	var err error
	a.close.Do(func() {
		close(a.closed)
		err = a.srv.Close()
	})
	return err
}

// Ready is closed when the runtime first asks for an invocation: its initialization is over.
func (a *RuntimeAPI) Ready() <-chan struct{} { return a.ready }

// InitFailed is closed when the runtime has posted an initialization error; see [RuntimeAPI.InitError].
func (a *RuntimeAPI) InitFailed() <-chan struct{} { return a.initFailed }

// InitError is what the runtime posted to /runtime/init/error, or nil.
func (a *RuntimeAPI) InitError() *FunctionError {
	select {
	case <-a.initFailed:
		return a.initErr
	default:
		return nil
	}
}

// Send queues inv for the runtime's next GET /next and returns its call at once. It fills in a missing request id
// and trace id.
func (a *RuntimeAPI) Send(inv Invocation) *Call {
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if inv.TraceID == "" {
		inv.TraceID = newTraceID()
	}
	c := &Call{inv: inv, delivered: make(chan struct{}), done: make(chan struct{})}
	select {
	case a.queue <- c:
	case <-a.closed:
		c.finish(nil, errors.New("runtime API closed"))
	default:
		c.finish(nil, errors.New("runtime API: too many invocations queued"))
	}
	return c
}

func (a *RuntimeAPI) next(w http.ResponseWriter, r *http.Request) {
	a.readyOnce.Do(func() { close(a.ready) })
	var c *Call
	select {
	case c = <-a.queue:
	case <-r.Context().Done():
		return
	case <-a.closed:
		return
	}
	c.deadline = time.Now().Add(c.inv.Timeout)
	a.mu.Lock()
	a.inflight[c.inv.RequestID] = c
	a.mu.Unlock()
	close(c.delivered)

	h := w.Header()
	h.Set(headerRequestID, c.inv.RequestID)
	h.Set(headerDeadline, strconv.FormatInt(c.deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, c.inv.InvokedFunctionARN)
	h.Set(headerTraceID, c.inv.TraceID)
	if c.inv.ClientContext != "" {
		h.Set(headerClientContext, c.inv.ClientContext)
	}
	if c.inv.CognitoIdentity != "" {
		h.Set(headerCognitoIdentity, c.inv.CognitoIdentity)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(c.inv.Payload)
}

// take removes the in-flight call id answers, or answers 400 when there is none.
func (a *RuntimeAPI) take(w http.ResponseWriter, id string) *Call {
	a.mu.Lock()
	c := a.inflight[id]
	delete(a.inflight, id)
	a.mu.Unlock()
	if c == nil {
		writeRuntimeJSON(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with request id "+id)
	}
	return c
}

func (a *RuntimeAPI) response(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		writeRuntimeJSON(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	c := a.take(w, id)
	if c == nil {
		return
	}
	if len(body) > MaxResponseBytes {
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes)
		c.finish(nil, &FunctionError{RequestID: id, Type: ErrorTypeResponseTooLarge, Message: msg,
			Payload: errorPayload(ErrorTypeResponseTooLarge, msg)})
		writeRuntimeJSON(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	}
	// The trailers are complete once the body has been read to its end.
	if typ := r.Trailer.Get(headerErrorType); typ != "" {
		errBody, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(headerErrorBody))
		c.finish(nil, newFunctionError(id, typ, errBody))
	} else {
		c.finish(body, nil)
	}
	writeAccepted(w)
}

func (a *RuntimeAPI) invocationError(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes))
	if err != nil {
		writeRuntimeJSON(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	c := a.take(w, id)
	if c == nil {
		return
	}
	c.finish(nil, newFunctionError(id, r.Header.Get(headerErrorType), body))
	writeAccepted(w)
}

func (a *RuntimeAPI) initError(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes))
	if err != nil {
		writeRuntimeJSON(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	a.initOnce.Do(func() {
		a.initErr = newFunctionError("", r.Header.Get(headerErrorType), body)
		close(a.initFailed)
	})
	writeAccepted(w)
}

func (a *RuntimeAPI) registerExtension(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Lambda-Extension-Identifier", newRequestID())
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{}`))
}

// extensionNext never sends an event: it holds the request until the API closes.
func (a *RuntimeAPI) extensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-a.closed:
	}
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	w.Write([]byte(`{"status":"OK"}`))
}

func writeRuntimeJSON(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(errorPayload(typ, msg))
}

// newRequestID returns a random (version 4) UUID, as Lambda's request ids are.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newTraceID returns an unsampled X-Ray trace header.
func newTraceID() string {
	var b [20]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), h[:24], h[24:40])
}

// lastLines returns the last n lines of b, without their line ends.
func lastLines(b []byte, n int) []string {
	b = bytes.TrimRight(b, "\n")
	if len(b) == 0 {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
