package lake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/eventlake/eventlake/test/rehearsal"
	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
	"github.com/eventlake/eventlake/test/rehearsal/sources"
)

// signingFront signs requests again, with the credentials the rehearsal issued to the function that signed them, and
// sends them on to upstream (the rehearsal's IAM gate). It stands between a sources.DelayFront and the gate: the
// DelayFront shortens the delays a function asks for by rewriting the body of its SendMessage, and moves the request
// to another host, which breaks the function's signature; moto, enforcing IAM, checks signatures over the body and
// the host. Signed again, the request is the one the function would have sent asking for the shorter delay, under
// its own role: the gate and moto check it as they check any of its calls.
//
// It knows the credentials it is shown (see credentials); a request signed with other credentials goes on unchanged.
type signingFront struct {
	upstream *url.URL
	signer   *v4.Signer

	mu    sync.Mutex
	creds map[string]aws.Credentials // access key id → the credentials
}

func newSigningFront(t *testing.T, upstream string) (*signingFront, string) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &signingFront{upstream: u, signer: v4.NewSigner(), creds: map[string]aws.Credentials{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// credentials wraps a function's source of credentials so that the front knows the credentials it gives.
func (f *signingFront) credentials(src func(context.Context) (lambdart.Credentials, error)) func(context.Context) (lambdart.Credentials, error) {
	return func(ctx context.Context) (lambdart.Credentials, error) {
		c, err := src(ctx)
		if err == nil {
			f.mu.Lock()
			f.creds[c.AccessKeyID] = aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
			f.mu.Unlock()
		}
		return c, err
	}
}

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// ServeHTTP implements http.Handler.
func (f *signingFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, f.upstream.JoinPath(r.URL.Path).String(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out.URL.RawQuery = r.URL.RawQuery
	for k, vs := range r.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization", "X-Amz-Date", "Content-Length", "Connection", "Accept-Encoding":
			continue
		}
		out.Header[k] = vs
	}
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		f.mu.Lock()
		c, known := f.creds[m[1]]
		f.mu.Unlock()
		if !known {
			out.Header.Set("Authorization", r.Header.Get("Authorization"))
			out.Header.Set("X-Amz-Date", r.Header.Get("X-Amz-Date"))
		} else {
			sum := sha256.Sum256(body)
			if err := f.signer.SignHTTP(r.Context(), c, out, hex.EncodeToString(sum[:]), m[3], m[2], time.Now()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	}
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// delayedFunction runs a function of the rehearsal as the rehearsal does — its asset, template environment, role's
// credentials, the gate as its endpoint — but with its SQS calls through a DelayFront applying policy, followed by
// a signingFront in front of the gate. The DelayFront is returned, for the delays it saw.
func delayedFunction(t *testing.T, r *rehearsal.Rehearsal, fn *rehearsal.Function, policy sources.DelayPolicy) (*lambdart.Function, *sources.DelayFront) {
	t.Helper()
	signing, signingURL := newSigningFront(t, r.Endpoint())
	front, err := sources.NewDelayFront(signingURL, policy)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	t.Cleanup(srv.Close)
	cfg := fn.Config()
	cfg.ServiceEndpoints["SQS"] = srv.URL
	cfg.Credentials = signing.credentials(cfg.Credentials)
	delayed, err := lambdart.NewFunction(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { delayed.Close() })
	return delayed, front
}

// delaySeconds reads a DELAY_SECONDS of the templates.
func delaySeconds(t *testing.T, fn *rehearsal.Function) time.Duration {
	t.Helper()
	secs, err := strconv.Atoi(fn.Environment["DELAY_SECONDS"])
	if err != nil || secs <= 0 {
		t.Fatalf("%s: DELAY_SECONDS %q", fn.Name(), fn.Environment["DELAY_SECONDS"])
	}
	return time.Duration(secs) * time.Second
}
