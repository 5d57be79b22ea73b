package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxDelay is the longest delay SQS accepts for a message.
const MaxDelay = 900 * time.Second

// A DelayPolicy gives the delay a message actually gets for the delay its sender asked (both whole seconds).
type DelayPolicy func(queueURL string, requested time.Duration) time.Duration

// ScaleDelays shortens every delay by factor, rounding up to whole seconds, so that a delay asked stays a delay
// (at least 1 s) and longer delays stay longer: with 1.0/300, the observer's 900 s becomes 3 s and its 30 s 1 s.
func ScaleDelays(factor float64) DelayPolicy {
	return func(_ string, d time.Duration) time.Duration {
		if d <= 0 {
			return 0
		}
		return time.Duration(math.Ceil(d.Seconds()*factor)) * time.Second
	}
}

// NoDelays removes every delay: messages are visible at once.
func NoDelays() DelayPolicy { return func(string, time.Duration) time.Duration { return 0 } }

// Delay is one message delay a DelayFront saw.
type Delay struct {
	// QueueURL is the queue the message was sent to.
	QueueURL string
	// Requested is the delay the sender asked for (DelaySeconds), zero when it asked none.
	Requested time.Duration
	// Applied is the delay the message was sent with.
	Applied time.Duration
	// At is when the front saw the send.
	At time.Time
}

// DelayFront makes time pass for delayed SQS messages in a rehearsal. moto honours DelaySeconds in real time (a
// message sent with a 900 s delay is received 900 s later) and, being a separate server, cannot have its clock
// moved, while the observer re-feeds its queue with delays of up to 900 s. The front stands where SQS is for the
// functions that send delayed messages (their AWS_ENDPOINT_URL_SQS, lambdart.Config.ServiceEndpoints["SQS"]) and
// passes every request to moto unchanged, except the DelaySeconds of SendMessage and of each SendMessageBatch
// entry, which its policy shortens; each delay asked is recorded, so tests can check what the function asked for.
// Both of SQS's protocols are understood: JSON (X-Amz-Target AmazonSQS.SendMessage, as the Go SDK sends) and query
// (Action=SendMessage).
//
// The delays are shortened, not removed, by ScaleDelays, so messages keep their relative order in time; a queue's
// own DelaySeconds attribute (a default delay) is not changed. Time-dependent logic in the function itself (such as
// the observer's maximum wait, read from its own clock) sees the real, shortened time. A DelayFront is safe for
// concurrent use.
type DelayFront struct {
	upstream *url.URL
	policy   DelayPolicy
	proxy    *httputil.ReverseProxy

	mu     sync.Mutex
	delays []Delay
}

// NewDelayFront returns a front for the SQS API at upstream (moto's URL) that applies policy to message delays.
func NewDelayFront(upstream string, policy DelayPolicy) (*DelayFront, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("DelayFront: upstream %q is not a URL", upstream)
	}
	if policy == nil {
		return nil, fmt.Errorf("DelayFront: no delay policy")
	}
	f := &DelayFront{upstream: u, policy: policy}
	f.proxy = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	return f, nil
}

// Delays returns the delays seen so far, in order.
func (f *DelayFront) Delays() []Delay {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Delay(nil), f.delays...)
}

// ServeHTTP implements http.Handler.
func (f *DelayFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	switch {
	case target == "AmazonSQS.SendMessage" || target == "AmazonSQS.SendMessageBatch":
		body, err = f.rewriteJSON(body, target == "AmazonSQS.SendMessageBatch")
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		body, err = f.rewriteQuery(body)
	}
	if err != nil {
		http.Error(w, "DelayFront: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	f.proxy.ServeHTTP(w, r)
}

// apply records a delay asked and returns the delay to send, in whole seconds.
func (f *DelayFront) apply(queueURL string, requestedSecs int64) int64 {
	req := time.Duration(requestedSecs) * time.Second
	got := f.policy(queueURL, req)
	if got < 0 {
		got = 0
	}
	if got > MaxDelay {
		got = MaxDelay
	}
	got = got.Truncate(time.Second)
	f.mu.Lock()
	f.delays = append(f.delays, Delay{QueueURL: queueURL, Requested: req, Applied: got, At: time.Now()})
	f.mu.Unlock()
	return int64(got / time.Second)
}

func (f *DelayFront) rewriteJSON(body []byte, batch bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, err
	}
	queue, _ := in["QueueUrl"].(string)
	set := func(m map[string]any) error {
		var secs int64
		if v, ok := m["DelaySeconds"]; ok && v != nil {
			n, ok := v.(json.Number)
			if !ok {
				return fmt.Errorf("DelaySeconds %v is not a number", v)
			}
			var err error
			if secs, err = n.Int64(); err != nil {
				return fmt.Errorf("DelaySeconds %v: %v", v, err)
			}
		} else {
			// No delay asked: the queue's default applies, which the front leaves alone.
			f.apply(queue, 0)
			return nil
		}
		m["DelaySeconds"] = f.apply(queue, secs)
		return nil
	}
	if batch {
		entries, _ := in["Entries"].([]any)
		for _, e := range entries {
			if m, ok := e.(map[string]any); ok {
				if err := set(m); err != nil {
					return nil, err
				}
			}
		}
	} else if err := set(in); err != nil {
		return nil, err
	}
	return json.Marshal(in)
}

func (f *DelayFront) rewriteQuery(body []byte) ([]byte, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	queue := v.Get("QueueUrl")
	set := func(key string) error {
		s := v.Get(key)
		if s == "" {
			f.apply(queue, 0)
			return nil
		}
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s %q: %v", key, s, err)
		}
		v.Set(key, strconv.FormatInt(f.apply(queue, secs), 10))
		return nil
	}
	switch v.Get("Action") {
	case "SendMessage":
		if err := set("DelaySeconds"); err != nil {
			return nil, err
		}
	case "SendMessageBatch":
		for i := 1; v.Has(fmt.Sprintf("SendMessageBatchRequestEntry.%d.Id", i)); i++ {
			if err := set(fmt.Sprintf("SendMessageBatchRequestEntry.%d.DelaySeconds", i)); err != nil {
				return nil, err
			}
		}
	default:
		return body, nil
	}
	return []byte(v.Encode()), nil
}
