package lambdart

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests play the runtime with plain HTTP, as aws-lambda-go's client does (lambda/runtime_api_client.go).

func newAPI(t *testing.T) (*RuntimeAPI, string) {
	t.Helper()
	api, err := NewRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	return api, "http://" + api.Addr() + "/2018-06-01/runtime/"
}

// poll is the runtime's GET /next, run in the background.
func poll(t *testing.T, base string) <-chan *http.Response {
	ch := make(chan *http.Response, 1)
	go func() {
		resp, err := http.Get(base + "invocation/next")
		if err != nil {
			t.Error(err)
			close(ch)
			return
		}
		ch <- resp
	}()
	return ch
}

func post(t *testing.T, url, contentType string, body io.Reader, header http.Header) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestRuntimeAPINextLongPollsAndSendsTheInvocation(t *testing.T) {
	api, base := newAPI(t)
	next := poll(t, base)

	// GIVEN a runtime waiting on /next with nothing to run: it waits, and its init is over
	select {
	case <-next:
		t.Fatal("/next answered before any invocation was sent")
	case <-time.After(200 * time.Millisecond):
	}
	select {
	case <-api.Ready():
	default:
		t.Fatal("Ready not closed after the runtime asked for an invocation")
	}

	// WHEN an invocation is sent
	call := api.Send(Invocation{Payload: []byte(`{"a":1}`), RequestID: "req-1",
		InvokedFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:f", TraceID: "Root=1-abc",
		ClientContext: `{"custom":{"k":"v"}}`, CognitoIdentity: `{"cognitoIdentityId":"id"}`, Timeout: 3 * time.Second})
	sent := time.Now()

	// THEN /next answers with its payload and every header aws-lambda-go reads
	resp := <-next
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != `{"a":1}` {
		t.Fatalf("/next: %d %s", resp.StatusCode, body)
	}
	for h, want := range map[string]string{
		"Lambda-Runtime-Aws-Request-Id":       "req-1",
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
		"Lambda-Runtime-Trace-Id":             "Root=1-abc",
		"Lambda-Runtime-Client-Context":       `{"custom":{"k":"v"}}`,
		"Lambda-Runtime-Cognito-Identity":     `{"cognitoIdentityId":"id"}`,
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	// AND the deadline is the timeout from now, in Unix milliseconds
	ms, err := strconv.ParseInt(resp.Header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if err != nil {
		t.Fatalf("Lambda-Runtime-Deadline-Ms %q: %v", resp.Header.Get("Lambda-Runtime-Deadline-Ms"), err)
	}
	if d := time.UnixMilli(ms).Sub(sent); d < 2800*time.Millisecond || d > 3200*time.Millisecond {
		t.Errorf("deadline %s after sending, want 3s", d)
	}
	if call.Deadline().UnixMilli() != ms {
		t.Errorf("call deadline %v, header %d", call.Deadline(), ms)
	}
	select {
	case <-call.Delivered():
	default:
		t.Error("call not marked delivered")
	}

	// AND the runtime's response (202) is the call's result
	if r := post(t, base+"invocation/req-1/response", "application/octet-stream", strings.NewReader(`"done"`), nil); r.StatusCode != http.StatusAccepted {
		t.Fatalf("/response: %d, want 202", r.StatusCode)
	}
	out, err := call.Result()
	if err != nil || string(out) != `"done"` {
		t.Fatalf("result %q, %v", out, err)
	}
	// AND a second answer for the same id is refused
	if r := post(t, base+"invocation/req-1/response", "application/json", strings.NewReader(`1`), nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("second /response: %d, want 400", r.StatusCode)
	}
}

func TestRuntimeAPIErrors(t *testing.T) {
	api, base := newAPI(t)
	deliver := func(id string) *Call {
		t.Helper()
		next := poll(t, base)
		call := api.Send(Invocation{RequestID: id, Payload: []byte(`{}`), Timeout: time.Second})
		resp := <-next
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return call
	}

	t.Run("error body", func(t *testing.T) {
		call := deliver("e1")
		body := `{"errorMessage":"boom","errorType":"TestError","stackTrace":[{"path":"x.go","line":1,"label":"f"}]}`
		r := post(t, base+"invocation/e1/error", "application/json", strings.NewReader(body),
			http.Header{"Lambda-Runtime-Function-Error-Type": {"Ignored.WhenTheBodyHasOne"}})
		if r.StatusCode != http.StatusAccepted {
			t.Fatalf("/error: %d", r.StatusCode)
		}
		_, err := call.Result()
		var fe *FunctionError
		if !errors.As(err, &fe) || fe.Type != "TestError" || fe.Message != "boom" || fe.RequestID != "e1" || string(fe.Payload) != body {
			t.Fatalf("got %#v, want the posted error", err)
		}
	})

	t.Run("error header, body not JSON", func(t *testing.T) {
		call := deliver("e2")
		post(t, base+"invocation/e2/error", "text/plain", strings.NewReader("plain failure"),
			http.Header{"Lambda-Runtime-Function-Error-Type": {"Runtime.Custom"}})
		_, err := call.Result()
		var fe *FunctionError
		if !errors.As(err, &fe) || fe.Type != "Runtime.Custom" || fe.Message != "plain failure" ||
			string(fe.Payload) != `{"errorType":"Runtime.Custom","errorMessage":"plain failure"}` {
			t.Fatalf("got %#v", err)
		}
	})

	t.Run("error trailers of a streamed response", func(t *testing.T) {
		// aws-lambda-go sends these trailers when the response reader fails part way
		call := deliver("e3")
		errBody := base64.StdEncoding.EncodeToString([]byte(`{"errorMessage":"read failed","errorType":"errorString"}`))
		req, _ := http.NewRequest(http.MethodPost, base+"invocation/e3/response", nil)
		req.Trailer = http.Header{"Lambda-Runtime-Function-Error-Type": nil, "Lambda-Runtime-Function-Error-Body": nil}
		req.Body = io.NopCloser(&trailerReader{r: strings.NewReader("partial"), trailer: req.Trailer,
			typ: "errorString", body: errBody})
		req.ContentLength = -1 // chunked, so the trailers go
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		_, err = call.Result()
		var fe *FunctionError
		if !errors.As(err, &fe) || fe.Type != "errorString" || fe.Message != "read failed" {
			t.Fatalf("got %#v, want the trailer's error", err)
		}
	})

	t.Run("response too large", func(t *testing.T) {
		call := deliver("e4")
		r := post(t, base+"invocation/e4/response", "application/json", bytes.NewReader(make([]byte, MaxResponseBytes+1)), nil)
		if r.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("/response of %d bytes: %d, want 413", MaxResponseBytes+1, r.StatusCode)
		}
		_, err := call.Result()
		var fe *FunctionError
		if !errors.As(err, &fe) || fe.Type != ErrorTypeResponseTooLarge {
			t.Fatalf("got %#v, want %s", err, ErrorTypeResponseTooLarge)
		}
	})

	t.Run("unknown request id", func(t *testing.T) {
		if r := post(t, base+"invocation/nope/response", "application/json", strings.NewReader(`1`), nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("/response of an unknown id: %d, want 400", r.StatusCode)
		}
		if r := post(t, base+"invocation/nope/error", "application/json", strings.NewReader(`{}`), nil); r.StatusCode != http.StatusBadRequest {
			t.Errorf("/error of an unknown id: %d, want 400", r.StatusCode)
		}
	})

	t.Run("init error", func(t *testing.T) {
		if api.InitError() != nil {
			t.Fatal("init error before any was posted")
		}
		r := post(t, base+"init/error", "application/json", strings.NewReader(`{"errorMessage":"no config","errorType":"Runtime.Init"}`), nil)
		if r.StatusCode != http.StatusAccepted {
			t.Fatalf("/init/error: %d", r.StatusCode)
		}
		select {
		case <-api.InitFailed():
		default:
			t.Fatal("InitFailed not closed")
		}
		if ie := api.InitError(); ie == nil || ie.Type != "Runtime.Init" || ie.Message != "no config" {
			t.Fatalf("init error %#v", ie)
		}
	})
}

// trailerReader sets error trailers when its reader is done, as aws-lambda-go's errorCapturingReader does when the
// handler's response reader fails.
type trailerReader struct {
	r         io.Reader
	trailer   http.Header
	typ, body string
}

func (r *trailerReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err == io.EOF {
		r.trailer.Set("Lambda-Runtime-Function-Error-Type", r.typ)
		r.trailer.Set("Lambda-Runtime-Function-Error-Body", r.body)
	}
	return n, err
}
