package fault

import (
	"bytes"
	"io"
	"net/http"
	"sync"
)

// Route picks requests that an HTTP server receives for a Fault. It is the server-side twin of an Injector, for
// clients a test cannot reach into, such as a Lambda function's own binary running in another process: put Handler
// in front of the server the function talks to.
type Route struct {
	// Method, if set, is the HTTP method of the requests picked, such as "POST".
	Method string
	// Match, if set, picks among the requests of Method. It is called with the Route's lock held, one request at a
	// time, so it may keep state of its own without a lock. It must not read the request's body.
	Match func(*http.Request) bool
	// MatchBody, if set, picks among the requests of Method (and Match) by their body too, such as the function a
	// CreateEventSourceMapping names. The Handler reads the body once for every route and hands the same bytes to
	// the next one, to the Fault and to the server. It is called as Match is.
	MatchBody func(req *http.Request, body []byte) bool
	// Times limits the Fault to the first Times requests picked. Zero means every request picked.
	Times int
	// Fault answers the requests picked. Without a Fault the Route only counts.
	Fault Fault

	mu       sync.Mutex
	calls    int
	injected int
}

// Calls is how many requests the Route picked by Method and Match.
func (r *Route) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// Injected is how many requests got the Fault.
func (r *Route) Injected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.injected
}

func (r *Route) pick(req *http.Request, body []byte) bool {
	if r.Method != "" && req.Method != r.Method {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Match != nil && !r.Match(req) {
		return false
	}
	if r.MatchBody != nil && !r.MatchBody(req, body) {
		return false
	}
	r.calls++
	if r.Fault == nil || (r.Times > 0 && r.injected >= r.Times) {
		return false
	}
	r.injected++
	return true
}

// Handler serves next, except that a request the first matching Route picks gets that Route's Fault instead: its
// status, headers and body, as the client would get them from AWS. A Fault that returns an error answers 502 with
// the error's text, as a broken connection would look to a client with no retry of its own.
func Handler(next http.Handler, routes ...*Route) http.Handler {
	byBody := false
	for _, r := range routes {
		byBody = byBody || r.MatchBody != nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body []byte
		if byBody && req.Body != nil {
			var err error
			if body, err = io.ReadAll(req.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Body.Close()
		}
		restore := func() {
			if byBody {
				req.Body = io.NopCloser(bytes.NewReader(body))
			}
		}
		for _, r := range routes {
			if !r.pick(req, body) {
				continue
			}
			restore()
			resp, err := r.Fault(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			for k, vs := range resp.Header {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
			return
		}
		restore()
		next.ServeHTTP(w, req)
	})
}
