package lambdart

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// MaxRequestBytes is the largest payload Lambda accepts for a synchronous invocation.
const MaxRequestBytes = 6291456

// tailBytes is how much of an invocation's log X-Amz-Log-Result carries, as Lambda's "Tail" does.
const tailBytes = 4096

// A Registry finds the functions a [Front] runs.
type Registry interface {
	// Lookup returns the function name stands for with qualifier: empty, or a version or alias as the invoker gave
	// it. It reports false when there is none, and the invoker gets ResourceNotFoundException.
	Lookup(name, qualifier string) (*Function, bool)
}

// Functions is a [Registry] of functions by name. A key "name:qualifier" (such as "worker:live") serves that
// qualifier; a plain name serves no qualifier and $LATEST.
type Functions map[string]*Function

// Lookup implements [Registry].
func (fs Functions) Lookup(name, qualifier string) (*Function, bool) {
	if qualifier != "" {
		if f, ok := fs[name+":"+qualifier]; ok {
			return f, true
		}
		if qualifier != "$LATEST" {
			return nil, false
		}
	}
	f, ok := fs[name]
	return f, ok
}

// A Front stands where the Lambda API is, for the rehearsal's functions and tools (their AWS_ENDPOINT_URL_LAMBDA).
// It serves Invoke, POST /2015-03-31/functions/{name}/invocations, for the functions of its [Registry], whether the
// function is given by name, ARN or partial ARN, with or without a qualifier:
//
//   - InvocationType RequestResponse (the default): runs the invocation and answers 200 with its response; a
//     function error, crash or timeout is 200 too, with X-Amz-Function-Error: Unhandled and the error body, as
//     Lambda answers. X-Amz-Log-Type: Tail gives the last 4 KB of the invocation's log in X-Amz-Log-Result.
//   - Event: answers 202 at once and runs the invocation later, in order with the function's other events; see
//     [Front.Wait]. Lambda's retries of a failed event are not emulated.
//   - DryRun: answers 204.
//
// A function the registry does not know gets 404 ResourceNotFoundException ("Function not found: <ARN>"), as the
// AWS SDK reads it. Every other request (GetFunction, event source mappings, …) goes unchanged to the upstream
// server, such as moto.
//
// Invocations run with the Front's own context, not the request's: an invoker that hangs up does not stop the
// function. [Front.Close] ends them.
type Front struct {
	// Account is the account of the ARNs the Front names in errors; DefaultAccount from [NewFront].
	Account string
	// Region is the region of those ARNs when the request does not name one; from the request's signature when
	// empty, else DefaultRegion.
	Region string

	registry Registry
	proxy    *httputil.ReverseProxy

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	queues map[*Function]*eventQueue
	errs   []error
	wg     sync.WaitGroup
}

// eventQueue holds a function's pending Event invocations.
type eventQueue struct {
	pending []Invocation
	running bool
}

// NewFront returns a Front running the functions of registry, sending other requests to upstream (a URL such as
// moto's). With an empty upstream, other requests get 501.
func NewFront(registry Registry, upstream string) (*Front, error) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &Front{Account: DefaultAccount, registry: registry, ctx: ctx, cancel: cancel, queues: map[*Function]*eventQueue{}}
	if upstream != "" {
		u, err := url.Parse(upstream)
		if err != nil || u.Scheme == "" || u.Host == "" {
			cancel()
			return nil, fmt.Errorf("lambdart: upstream %q is not a URL", upstream)
		}
		f.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			host := pr.In.Host
			pr.SetURL(u)
			pr.Out.Host = host // unchanged, as signed
		}}
	}
	return f, nil
}

var invocationsPath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations/?$`)

// ServeHTTP implements http.Handler.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := invocationsPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		f.invoke(w, r, m[1])
		return
	}
	if f.proxy == nil {
		writeAWSError(w, http.StatusNotImplemented, "ServiceException", "", "no upstream for "+r.Method+" "+r.URL.Path)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *Front) invoke(w http.ResponseWriter, r *http.Request, ref string) {
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID) // the invocation's request id too
	name, qualifier, region, account := f.parseRef(ref, r)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "User",
				"The derived qualifier from the function name does not match the specified qualifier.")
			return
		}
		qualifier = q
	}
	fn, ok := f.registry.Lookup(name, qualifier)
	if !ok {
		arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
		if qualifier != "" {
			arn += ":" + qualifier
		}
		writeAWSError(w, http.StatusNotFound, "ResourceNotFoundException", "User", "Function not found: "+arn)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException", "User", err.Error())
		return
	}
	if len(payload) > MaxRequestBytes {
		writeAWSError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "User",
			fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxRequestBytes))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException", "User",
			"Could not parse request body into json: the payload is not valid JSON")
		return
	}
	inv := Invocation{Payload: payload, RequestID: requestID, InvokedFunctionARN: fn.ARN()}
	if qualifier != "" {
		inv.InvokedFunctionARN += ":" + qualifier
	}
	if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
		decoded, err := base64.StdEncoding.DecodeString(cc)
		if err != nil || !json.Valid(decoded) {
			writeAWSError(w, http.StatusBadRequest, "InvalidRequestContentException", "User",
				"Client context must be a valid Base64-encoded JSON object.")
			return
		}
		inv.ClientContext = string(decoded)
	}

	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
		res, err := fn.Run(f.ctx, inv)
		if res == nil || (err != nil && payloadOf(err) == nil) {
			writeAWSError(w, http.StatusInternalServerError, "ServiceException", "Service",
				fmt.Sprintf("function %s: %v", fn.Name(), err))
			return
		}
		if r.Header.Get("X-Amz-Log-Type") == "Tail" {
			tail := res.Logs
			if len(tail) > tailBytes {
				tail = tail[len(tail)-tailBytes:]
			}
			w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(tail))
		}
		if err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
		}
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(res.Payload)
	case "Event":
		f.enqueue(fn, inv)
		w.WriteHeader(http.StatusAccepted)
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	default:
		writeAWSError(w, http.StatusBadRequest, "InvalidParameterValueException", "User",
			fmt.Sprintf("1 validation error detected: Value '%s' at 'invocationType' failed to satisfy constraint: "+
				"Member must satisfy enum value set: [Event, RequestResponse, DryRun]", typ))
	}
}

// parseRef reads a function name, full ARN or partial ARN (account:function:name), each with an optional
// :qualifier.
func (f *Front) parseRef(ref string, r *http.Request) (name, qualifier, region, account string) {
	region, account = f.region(r), f.Account
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[5] == "function":
		region, account, name = parts[3], parts[4], parts[6]
		if len(parts) > 7 {
			qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		account, name = parts[0], parts[2]
		if len(parts) > 3 {
			qualifier = parts[3]
		}
	default:
		name = parts[0]
		if len(parts) > 1 {
			qualifier = parts[1]
		}
	}
	return name, qualifier, region, account
}

var credentialScope = regexp.MustCompile(`Credential=[^/,]+/\d{8}/([a-z0-9-]+)/`)

// region is the Front's region, else the one the request was signed for, else DefaultRegion.
func (f *Front) region(r *http.Request) string {
	if f.Region != "" {
		return f.Region
	}
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return DefaultRegion
}

func (f *Front) enqueue(fn *Function, inv Invocation) {
	f.wg.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[fn]
	if q == nil {
		q = &eventQueue{}
		f.queues[fn] = q
	}
	q.pending = append(q.pending, inv)
	if !q.running {
		q.running = true
		go f.drain(fn, q)
	}
}

// drain runs a function's Event invocations one after the other until none is left.
func (f *Front) drain(fn *Function, q *eventQueue) {
	for {
		f.mu.Lock()
		if len(q.pending) == 0 {
			q.running = false
			f.mu.Unlock()
			return
		}
		inv := q.pending[0]
		q.pending = q.pending[1:]
		f.mu.Unlock()

		if _, err := fn.Run(f.ctx, inv); err != nil {
			f.mu.Lock()
			f.errs = append(f.errs, fmt.Errorf("event invocation %s of %s: %w", inv.RequestID, fn.Name(), err))
			f.mu.Unlock()
		}
		f.wg.Done()
	}
}

// Wait waits until every Event invocation queued so far, and any queued meanwhile, has run, and returns the errors
// of those that failed since the last Wait, joined.
func (f *Front) Wait() error {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	err := errors.Join(f.errs...)
	f.errs = nil
	return err
}

// Close ends the invocations running or queued (a running one's process is killed) and waits for them.
func (f *Front) Close() error {
	f.cancel()
	f.wg.Wait()
	return nil
}

// writeAWSError answers as the Lambda API does: the error code in X-Amzn-ErrorType, and a body with the message and,
// when errType is not empty, the error's Type (User or Service).
func writeAWSError(w http.ResponseWriter, status int, code, errType, msg string) {
	body := map[string]string{"Message": msg}
	if errType != "" {
		body["Type"] = errType
	}
	b, _ := json.Marshal(body)
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}
