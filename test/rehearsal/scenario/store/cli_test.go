package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/rehearsal"
)

// replayCLI is the operators' replay command built for this machine, as `go build ./cmd/replay` builds it.
type replayCLI struct {
	path string
	err  error
	done chan struct{}
}

// buildReplayCLI starts building cmd/replay into a directory of the test's; wait for it with [replayCLI.wait].
func buildReplayCLI(t *testing.T) *replayCLI {
	t.Helper()
	c := &replayCLI{path: filepath.Join(t.TempDir(), "replay"), done: make(chan struct{})}
	t.Cleanup(func() { <-c.done }) // before the directory goes, and before t may no longer log
	go func() {
		defer close(c.done)
		goTool, err := exec.LookPath("go")
		if err != nil {
			c.err = err
			return
		}
		start := time.Now()
		out, err := exec.Command(goTool, "build", "-o", c.path, "github.com/eventlake/eventlake/cmd/replay").CombinedOutput()
		if err != nil {
			c.err = fmt.Errorf("go build ./cmd/replay: %v\n%s", err, out)
			return
		}
		t.Logf("built cmd/replay in %s", time.Since(start).Round(time.Millisecond))
	}()
	return c
}

func (c *replayCLI) wait(t *testing.T) string {
	t.Helper()
	<-c.done
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c.path
}

// cliRun is what one run of the replay command did.
type cliRun struct {
	// status is its exit status.
	status int
	// summary is the last line of its stdout, decoded.
	summary replay.Summary
	// stdout and stderr are its output.
	stdout, stderr string
	// invocations are the Invoke requests it made, in the order the Lambda API received them.
	invocations []invocation
}

// invocation is one Invoke request to the Lambda API.
type invocation struct {
	// function is the function as the request names it; typ its X-Amz-Invocation-Type ("" is RequestResponse).
	function, typ string
	payload       []byte
}

// runReplay runs the replay command as an operator would, with the admin's credentials, the AWS SDK's standard
// environment pointed at the rehearsal's gate (AWS_ENDPOINT_URL) and Lambda API front (AWS_ENDPOINT_URL_LAMBDA), and
// nothing of the machine's own AWS configuration. A recording proxy before the front keeps its Invoke requests.
func runReplay(t *testing.T, r *rehearsal.Rehearsal, bin string, args ...string) cliRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	creds, err := r.AdminConfig().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tap, invocations := lambdaTap(t, r.FrontURL())
	defer tap.Close()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_REGION=" + r.Deployment().Region,
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_ENDPOINT_URL=" + r.Endpoint(), "AWS_ENDPOINT_URL_LAMBDA=" + tap.URL,
	}
	if creds.SessionToken != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	run := cliRun{stdout: stdout.String(), stderr: stderr.String(), invocations: invocations()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		run.status = exit.ExitCode()
	case err != nil:
		t.Fatalf("replay %s: %v\n%s", strings.Join(args, " "), err, run.stderr)
	}
	t.Logf("replay %s: status %d in %s\nstderr:\n%s", strings.Join(args, " "), run.status, time.Since(start).Round(time.Millisecond), run.stderr)
	lines := strings.Split(strings.TrimRight(run.stdout, "\n"), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &run.summary); err != nil {
		t.Fatalf("the last line on stdout is no JSON summary: %v\nstdout:\n%s", err, run.stdout)
	}
	return run
}

// lambdaTap is an HTTP proxy to the Lambda API at upstream that keeps a copy of every Invoke request; the request
// goes on unchanged (its Host header too, which its signature covers). The returned function lists the Invoke
// requests so far.
func lambdaTap(t *testing.T, upstream string) (*httptest.Server, func() []invocation) {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []invocation
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		host := pr.In.Host
		pr.SetURL(u)
		pr.Out.Host = host
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		const prefix = "/2015-03-31/functions/"
		if req.Method == http.MethodPost && strings.HasPrefix(req.URL.Path, prefix) && strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/invocations") {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			fn, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(req.URL.Path, "/"), prefix), "/invocations"))
			mu.Lock()
			seen = append(seen, invocation{function: fn, typ: req.Header.Get("X-Amz-Invocation-Type"), payload: body})
			mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	return srv, func() []invocation {
		mu.Lock()
		defer mu.Unlock()
		return append([]invocation(nil), seen...)
	}
}
