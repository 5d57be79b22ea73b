package lambdart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

func invokeJSON(t *testing.T, f *Function, payload string) []byte {
	t.Helper()
	out, err := f.Invoke(context.Background(), []byte(payload))
	if err != nil {
		t.Fatalf("invoke %s: %v", payload, err)
	}
	return out
}

// instance is the test handler's process id (made at its init) and how many invocations that process has run.
func instance(t *testing.T, f *Function) (id string, invocations int) {
	t.Helper()
	var got struct {
		Instance    string `json:"instance"`
		Invocations int    `json:"invocations"`
	}
	if err := json.Unmarshal(invokeJSON(t, f, `{"action":"instance"}`), &got); err != nil {
		t.Fatal(err)
	}
	return got.Instance, got.Invocations
}

func TestLakeTransformBootstrap(t *testing.T) {
	// GIVEN the data lake's real transformation, built as deployed, and a Firehose batch with two events, a record
	// that is not JSON and one that is JSON but not an object
	f := newFunction(t, Config{Name: "laketransform", AssetDir: bootstrapDir(t, laketransformPkg), Timeout: 60 * time.Second})
	batch, err := os.ReadFile("../../../lake/testdata/firehose-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile("../../../lake/testdata/firehose-batch.golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var in events.KinesisFirehoseEvent
	if err := json.Unmarshal(batch, &in); err != nil {
		t.Fatal(err)
	}

	// WHEN Firehose's event goes through the bootstrap, cold and then warm
	var runs []*Result
	for i := 0; i < 4; i++ {
		start := time.Now()
		res, err := f.Run(context.Background(), Invocation{Payload: batch})
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		t.Logf("invocation %d: cold=%v init=%s duration=%s wall=%s", i, res.ColdStart,
			res.InitDuration.Round(time.Millisecond), res.Duration.Round(time.Microsecond), time.Since(start).Round(time.Millisecond))
		runs = append(runs, res)
	}

	// THEN every record is answered in order: the events as the golden lake lines, the others failed with their data
	var out events.KinesisFirehoseResponse
	if err := json.Unmarshal(runs[0].Payload, &out); err != nil {
		t.Fatalf("response %s: %v", runs[0].Payload, err)
	}
	if len(out.Records) != len(in.Records) {
		t.Fatalf("%d records, want %d", len(out.Records), len(in.Records))
	}
	var lines []byte
	for i, r := range out.Records {
		want := []string{"Ok", "ProcessingFailed", "Ok", "ProcessingFailed"}[i]
		if r.RecordID != in.Records[i].RecordID || r.Result != want {
			t.Errorf("record %d: %s %s, want %s %s", i, r.RecordID, r.Result, in.Records[i].RecordID, want)
		}
		if r.Result == "Ok" {
			lines = append(lines, r.Data...)
		} else if !bytes.Equal(r.Data, in.Records[i].Data) {
			t.Errorf("record %d: failed data %q, want the original", i, r.Data)
		}
	}
	if !bytes.Equal(lines, golden) {
		t.Errorf("lines:\n%s\nwant:\n%s", lines, golden)
	}
	// AND the warm invocations give the same answer from the same process
	for i, r := range runs {
		if !bytes.Equal(r.Payload, runs[0].Payload) {
			t.Errorf("invocation %d answered differently: %s", i, r.Payload)
		}
		if r.ColdStart != (i == 0) {
			t.Errorf("invocation %d: cold start %v", i, r.ColdStart)
		}
	}
	if s := f.Stats(); s.ColdStarts != 1 || s.Invocations != 4 {
		t.Errorf("stats %+v, want 1 cold start and 4 invocations", s)
	}
	// AND its logs are the function's JSON log lines, between the platform's lines
	logs := f.Logs()
	for _, want := range []string{`"msg":"transformed batch"`, `"recordId":"rec-1"`, "START RequestId: " + runs[0].RequestID,
		"END RequestId: " + runs[0].RequestID, "REPORT RequestId: " + runs[0].RequestID} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if !bytes.Contains(runs[1].Logs, []byte(`"msg":"transformed batch"`)) || bytes.Contains(runs[1].Logs, []byte(runs[0].RequestID)) {
		t.Errorf("the second invocation's logs are not its own:\n%s", runs[1].Logs)
	}
}

func TestFunctionErrorIsAFunctionError(t *testing.T) {
	f := newFunction(t, Config{})
	id, _ := instance(t, f)

	res, err := f.Run(context.Background(), Invocation{Payload: []byte(`{"action":"error","message":"no such thing"}`)})

	var fe *FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *FunctionError", err)
	}
	if fe.Type != "TestError" || fe.Message != "no such thing" || fe.RequestID != res.RequestID {
		t.Errorf("function error %+v", fe)
	}
	var body map[string]any
	if json.Unmarshal(res.Payload, &body) != nil || body["errorType"] != "TestError" || body["errorMessage"] != "no such thing" {
		t.Errorf("error payload %s", res.Payload)
	}
	// AND the process stays warm, as Lambda keeps it after a handled error
	if again, n := instance(t, f); again != id || n != 3 {
		t.Errorf("after an error: instance %s (%d invocations), want the same %s (3)", again, n, id)
	}
}

func TestPanicIsReportedAndTheNextInvocationStartsCold(t *testing.T) {
	f := newFunction(t, Config{})
	id, _ := instance(t, f)

	// WHEN the handler panics
	_, err := f.Invoke(context.Background(), []byte(`{"action":"panic","message":"boom"}`))

	// THEN the invoker gets the panic as aws-lambda-go reports it, with its stack
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "string" || fe.Message != "boom" || !bytes.Contains(fe.Payload, []byte(`"stackTrace"`)) {
		t.Fatalf("got %v, want the panic as a *FunctionError with a stack trace", err)
	}
	// AND the process, which exits after a panic, is replaced at the next invocation
	again, n := instance(t, f)
	if again == id || n != 1 {
		t.Errorf("after a panic: instance %s (%d invocations), want a new one (1)", again, n)
	}
	if s := f.Stats(); s.ColdStarts != 2 {
		t.Errorf("%d cold starts, want 2", s.ColdStarts)
	}
}

func TestCrashIsReportedAndTheNextInvocationStartsCold(t *testing.T) {
	f := newFunction(t, Config{})
	id, _ := instance(t, f)

	res, err := f.Run(context.Background(), Invocation{Payload: []byte(`{"action":"exit","code":2}`)})

	var re *RuntimeError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RuntimeError", err)
	}
	if re.Type != ErrorTypeExit || re.ExitStatus != "exit status 2" || re.Init ||
		re.Message != "RequestId: "+res.RequestID+" Error: Runtime exited with error: exit status 2" {
		t.Errorf("runtime error %+v", re)
	}
	if len(re.LogTail) == 0 || re.LogTail[len(re.LogTail)-1] != "exiting with 2" {
		t.Errorf("log tail %q, want it to end with the handler's last line", re.LogTail)
	}
	if !strings.Contains(re.Error(), "exiting with 2") {
		t.Errorf("error text does not show the last log lines: %v", re)
	}
	if string(res.Payload) != `{"errorType":"Runtime.ExitError","errorMessage":"`+re.Message+`"}` {
		t.Errorf("payload %s", res.Payload)
	}
	again, _ := instance(t, f)
	if again == id {
		t.Error("the crashed process answered again")
	}
	if s := f.Stats(); s.ColdStarts != 2 || s.Invocations != 3 {
		t.Errorf("stats %+v, want 2 cold starts and 3 invocations", s)
	}
}

func TestTimeoutKillsTheProcess(t *testing.T) {
	f := newFunction(t, Config{Timeout: time.Second})
	id, _ := instance(t, f)
	pid := f.current().cmd.Process.Pid

	// WHEN an invocation runs past the function's timeout
	start := time.Now()
	res, err := f.Run(context.Background(), Invocation{Payload: []byte(`{"action":"sleep","sleep":"60s"}`)})
	took := time.Since(start)

	// THEN it fails as Lambda's do, at the timeout
	var re *RuntimeError
	if !errors.As(err, &re) || re.Type != ErrorTypeTimeout ||
		re.Message != "RequestId: "+res.RequestID+" Error: Task timed out after 1.00 seconds" {
		t.Fatalf("got %v, want a timeout", err)
	}
	if took < time.Second || took > 5*time.Second {
		t.Errorf("the invocation took %s, want about the 1s timeout", took)
	}
	if !strings.Contains(f.Logs(), res.RequestID+" Task timed out after 1.00 seconds") {
		t.Errorf("logs do not report the timeout:\n%s", f.Logs())
	}
	// AND the process is gone
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still there after the timeout (kill 0: %v)", pid, err)
	}
	// AND the next invocation starts a new one
	if again, n := instance(t, f); again == id || n != 1 {
		t.Errorf("after the timeout: instance %s (%d invocations), want a new one", again, n)
	}
}

func TestInitFailures(t *testing.T) {
	t.Run("exit", func(t *testing.T) {
		f := newFunction(t, Config{Environment: map[string]string{"FNHANDLER_INIT": "exit"}})
		for i := 0; i < 2; i++ { // each invocation tries a new process
			_, err := f.Invoke(context.Background(), []byte(`{"action":"instance"}`))
			var re *RuntimeError
			if !errors.As(err, &re) || re.Type != ErrorTypeExit || !re.Init || re.ExitStatus != "exit status 3" ||
				len(re.LogTail) == 0 || re.LogTail[len(re.LogTail)-1] != "init: giving up" {
				t.Fatalf("invocation %d: got %v, want an init exit with the process's last line", i, err)
			}
		}
	})
	t.Run("init error", func(t *testing.T) {
		f := newFunction(t, Config{Environment: map[string]string{"FNHANDLER_INIT": "init-error"}})
		_, err := f.Invoke(context.Background(), []byte(`{"action":"instance"}`))
		var re *RuntimeError
		if !errors.As(err, &re) || re.Type != "Runtime.TestInitError" || re.Message != "configuration is missing" || !re.Init {
			t.Fatalf("got %v, want the posted init error", err)
		}
	})
}

func TestEnvironmentIsExactlyTheFunctionsAndLambdas(t *testing.T) {
	t.Setenv("LAMBDART_HOST_ONLY", "must not pass")
	dir := bootstrapDir(t, fnhandlerPkg)
	f := newFunction(t, Config{
		Name:             "envfn",
		AssetDir:         dir,
		MemoryMB:         256,
		Region:           "eu-west-1",
		Environment:      map[string]string{"TABLE": "events", "EMPTY": ""},
		Credentials:      StaticCredentials("AKID", "SECRET", "TOKEN"),
		EndpointURL:      "http://127.0.0.1:1",
		ServiceEndpoints: map[string]string{"lambda": "http://127.0.0.1:2"},
		LogFormat:        "JSON",
		LogLevel:         "debug",
	})
	res, err := f.Run(context.Background(), Invocation{Payload: []byte(`{"action":"env"}`), TraceID: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"})
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]string
	if err := json.Unmarshal(res.Payload, &env); err != nil {
		t.Fatal(err)
	}

	want := map[string]string{
		"TABLE": "events", "EMPTY": "",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:2",
		"AWS_LAMBDA_FUNCTION_NAME": "envfn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/envfn",
		"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"_HANDLER": "bootstrap", "LAMBDA_TASK_ROOT": dir, "TZ": ":UTC",
		"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
		// set by aws-lambda-go for each invocation, from Lambda-Runtime-Trace-Id
		"_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0",
	}
	patterns := map[string]*regexp.Regexp{
		"AWS_LAMBDA_RUNTIME_API":     regexp.MustCompile(`^127\.0\.0\.1:\d+$`),
		"AWS_LAMBDA_LOG_STREAM_NAME": regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`),
	}
	for k, v := range env {
		if p, ok := patterns[k]; ok {
			if !p.MatchString(v) {
				t.Errorf("%s=%q does not match %s", k, v, p)
			}
			continue
		}
		if w, ok := want[k]; !ok {
			t.Errorf("unexpected variable %s=%q", k, v)
		} else if v != w {
			t.Errorf("%s=%q, want %q", k, v, w)
		}
	}
	for k := range want {
		if _, ok := env[k]; !ok {
			t.Errorf("missing variable %s", k)
		}
	}
	for k := range patterns {
		if _, ok := env[k]; !ok {
			t.Errorf("missing variable %s", k)
		}
	}
	// AND the platform's log lines follow the JSON format
	if !strings.Contains(f.Logs(), `"type":"platform.start"`) || !strings.Contains(f.Logs(), `"type":"platform.report"`) {
		t.Errorf("JSON platform lines missing:\n%s", f.Logs())
	}
}

func TestTextLogFormatSetsNoLogVariables(t *testing.T) {
	f := newFunction(t, Config{LogLevel: "DEBUG"})
	var env map[string]string
	json.Unmarshal(invokeJSON(t, f, `{"action":"env"}`), &env)
	for _, k := range []string{"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s=%q set without its configuration", k, v)
		}
	}
}

func TestInvocationContext(t *testing.T) {
	f := newFunction(t, Config{Name: "ctxfn", Timeout: 7 * time.Second, MemoryMB: 512})
	start := time.Now()
	res, err := f.Run(context.Background(), Invocation{Payload: []byte(`{"action":"context"}`),
		InvokedFunctionARN: f.ARN() + ":live", ClientContext: `{"custom":{"k":"v"}}`, TraceID: "Root=1-abc"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RequestID     string            `json:"requestId"`
		InvokedARN    string            `json:"invokedArn"`
		ClientContext map[string]string `json:"clientContext"`
		DeadlineMs    int64             `json:"deadlineMs"`
		TraceID       string            `json:"traceId"`
		FunctionName  string            `json:"functionName"`
		MemoryMB      int               `json:"memoryMB"`
	}
	json.Unmarshal(res.Payload, &got)
	if got.RequestID != res.RequestID || got.InvokedARN != "arn:aws:lambda:us-east-1:123456789012:function:ctxfn:live" ||
		got.ClientContext["k"] != "v" || got.TraceID != "Root=1-abc" || got.FunctionName != "ctxfn" || got.MemoryMB != 512 {
		t.Errorf("context %+v (request %s)", got, res.RequestID)
	}
	// the deadline is the timeout after the runtime took the invocation, which is after the cold start
	if d := time.UnixMilli(got.DeadlineMs).Sub(start); d < 7*time.Second || d > 7*time.Second+res.InitDuration+2*time.Second {
		t.Errorf("deadline %s after the call, want the 7s timeout after init (%s)", d, res.InitDuration)
	}
}

func TestResponseTooLarge(t *testing.T) {
	f := newFunction(t, Config{})
	_, err := f.Invoke(context.Background(), []byte(fmt.Sprintf(`{"action":"big","size":%d}`, MaxResponseBytes)))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != ErrorTypeResponseTooLarge {
		t.Fatalf("got %v, want %s", err, ErrorTypeResponseTooLarge)
	}
	// aws-lambda-go exits when its response is refused; the next invocation starts a new process
	if _, n := instance(t, f); n != 1 {
		t.Errorf("%d invocations in the process after the refused response, want a new process", n)
	}
}

func TestCanceledInvocationKillsTheProcess(t *testing.T) {
	f := newFunction(t, Config{Timeout: time.Minute})
	id, _ := instance(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.Invoke(ctx, []byte(`{"action":"sleep","sleep":"60s"}`))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %s, want the context's deadline", err, time.Since(start))
	}
	if again, _ := instance(t, f); again == id {
		t.Error("the process of the canceled invocation answered again")
	}
}

func TestFunctionsRunConcurrentlyAndEachSerially(t *testing.T) {
	a := newFunction(t, Config{Name: "a"})
	b := newFunction(t, Config{Name: "b"})
	instance(t, a) // warm both
	instance(t, b)

	run := func(fns ...*Function) time.Duration {
		start := time.Now()
		var wg sync.WaitGroup
		for _, f := range fns {
			wg.Go(func() {
				if _, err := f.Invoke(context.Background(), []byte(`{"action":"sleep","sleep":"1500ms"}`)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return time.Since(start)
	}
	if d := run(a, b); d > 2800*time.Millisecond {
		t.Errorf("two functions sleeping 1.5s each took %s together, want them concurrent", d)
	}
	if d := run(a, a); d < 3*time.Second {
		t.Errorf("two invocations of one function sleeping 1.5s each took %s, want them one after the other", d)
	}
}

func TestNewFunctionRefusesReservedVariables(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER", "AWS_ACCESS_KEY_ID", "LAMBDA_TASK_ROOT"} {
		f, err := NewFunction(Config{Name: "f", AssetDir: dir, QEMU: "/bin/false", Environment: map[string]string{k: "x"}})
		if err == nil {
			f.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("%s: got %v, want it refused as reserved", k, err)
		}
	}
	if _, err := NewFunction(Config{Name: "f", AssetDir: t.TempDir(), QEMU: "/bin/false"}); err == nil {
		t.Error("an asset directory without bootstrap was accepted")
	}
}

func TestLogsSurviveClose(t *testing.T) {
	f := newFunction(t, Config{})
	invokeJSON(t, f, `{"action":"log","message":"remember me"}`)
	f.Close()
	if !strings.Contains(f.Logs(), "remember me") {
		t.Errorf("logs after close:\n%s", f.Logs())
	}
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); err == nil {
		t.Error("a closed function ran an invocation")
	}
}
