package lambdart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of a [Config], as Lambda's own.
const (
	DefaultTimeout     = 3 * time.Second
	DefaultMemoryMB    = 128
	DefaultRegion      = "us-east-1"
	DefaultAccount     = "123456789012"
	DefaultHandler     = "bootstrap"
	DefaultInitTimeout = 10 * time.Second
)

// logTailLines is how many of the process's last log lines a [RuntimeError] carries.
const logTailLines = 20

// reserved are the environment variables Lambda sets itself and refuses in a function's configuration.
var reserved = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true, "AWS_LAMBDA_LOG_GROUP_NAME": true,
	"AWS_LAMBDA_LOG_STREAM_NAME": true, "AWS_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true,
	"AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true, "AWS_LAMBDA_RUNTIME_API": true,
	"LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// Credentials are the AWS credentials a function's process gets in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, as Lambda gives it its execution role's.
type Credentials struct {
	AccessKeyID     string // AWS_ACCESS_KEY_ID
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	SessionToken    string // AWS_SESSION_TOKEN, unset when empty
}

// StaticCredentials returns a credentials source for [Config.Credentials] that always gives the same credentials.
func StaticCredentials(accessKeyID, secretAccessKey, sessionToken string) func(context.Context) (Credentials, error) {
	c := Credentials{accessKeyID, secretAccessKey, sessionToken}
	return func(context.Context) (Credentials, error) { return c, nil }
}

// Config is what a [Function] runs and how: the function's configuration from the template, resolved by the
// caller, and where its AWS calls go.
type Config struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME). Required.
	Name string
	// AssetDir is the function's code: the directory holding its bootstrap (the CDK asset). The process runs in it,
	// and LAMBDA_TASK_ROOT names it. Required.
	AssetDir string
	// Handler is the function's handler (_HANDLER); DefaultHandler when empty.
	Handler string
	// Timeout is the function's timeout; DefaultTimeout when zero.
	Timeout time.Duration
	// MemoryMB is the function's memory size (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); DefaultMemoryMB when zero. It is
	// not enforced.
	MemoryMB int
	// Region is the function's region (AWS_REGION, AWS_DEFAULT_REGION, its ARN); DefaultRegion when empty.
	Region string
	// Account is the account of the function's ARN; DefaultAccount when empty.
	Account string
	// Environment is the function's environment variables (the template's Environment.Variables, resolved). A
	// variable Lambda reserves is refused, as Lambda refuses it.
	Environment map[string]string
	// Credentials gives the credentials of each new process (each cold start), such as its execution role's,
	// assumed; none when nil.
	Credentials func(context.Context) (Credentials, error)
	// EndpointURL is AWS_ENDPOINT_URL, where the function's AWS SDK calls go (moto, or a front); unset when empty.
	EndpointURL string
	// ServiceEndpoints are service-specific endpoints: "LAMBDA" gives AWS_ENDPOINT_URL_LAMBDA, and so on.
	ServiceEndpoints map[string]string
	// LogFormat is the template's LoggingConfig.LogFormat: "JSON" sets AWS_LAMBDA_LOG_FORMAT=JSON and writes the
	// platform's log lines as JSON; anything else is Lambda's Text format.
	LogFormat string
	// LogLevel is the template's LoggingConfig.ApplicationLogLevel, given in AWS_LAMBDA_LOG_LEVEL with the JSON log
	// format.
	LogLevel string
	// LogGroup is AWS_LAMBDA_LOG_GROUP_NAME; /aws/lambda/Name when empty.
	LogGroup string
	// InitTimeout bounds a cold start, from the process's start to its first request for an invocation;
	// DefaultInitTimeout (Lambda's) when zero.
	InitTimeout time.Duration
	// QEMU is the path of qemu-aarch64-static; found on PATH or in /usr/bin when empty (see [FindQEMU]).
	QEMU string
	// Echo, when set, gets the function's log lines through Logf as they are written (at the end of each
	// invocation, and when the function is closed).
	Echo testing.TB
}

// A Function is the execution environment of one Lambda function: its bootstrap, run under qemu-aarch64-static
// with a [RuntimeAPI] of its own.
//
// The first invocation starts the process (a cold start); later invocations reuse it while it lives, as Lambda
// does. A process that exits, reports an initialization error or runs past the timeout is killed and replaced at
// the next invocation. Invocations of one function run one at a time, as in one execution environment; different
// functions run concurrently.
//
// The process gets exactly [Config.Environment], the credentials and endpoints of its [Config], and the variables
// Lambda sets: AWS_LAMBDA_RUNTIME_API, AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION ($LATEST),
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME (new for each process),
// AWS_LAMBDA_INITIALIZATION_TYPE (on-demand), AWS_REGION, AWS_DEFAULT_REGION, _HANDLER, LAMBDA_TASK_ROOT, TZ (:UTC),
// and with the JSON log format AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL. Nothing of the host's environment
// passes, not even PATH: a handler that reads a variable its template does not set fails as it would on AWS.
type Function struct {
	cfg       Config
	arn       string
	qemu      string
	bootstrap string

	logPath string
	logFile *os.File
	logMu   sync.Mutex // guards echoed and finalLogs
	echoed  int64
	final   []byte // the logs after Close

	run     sync.Mutex // one invocation at a time
	envMu   sync.Mutex // guards env
	env     *environment
	closing atomic.Bool
	closed  sync.Once

	invocations atomic.Int64
	coldStarts  atomic.Int64
}

// environment is one process of a function, with its own Runtime API.
type environment struct {
	api       *RuntimeAPI
	cmd       *exec.Cmd
	exited    chan struct{}
	started   time.Time
	logOffset int64 // the size of the log when it started
}

func (e *environment) dead() bool {
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// kill stops the process, waits for it to end and closes its Runtime API.
func (e *environment) kill() {
	if !e.dead() {
		killProcess(e.cmd)
		<-e.exited
	}
	e.api.Close()
}

// exitStatus is how the process ended: "exit status 2", "signal: killed".
func (e *environment) exitStatus() string {
	if ps := e.cmd.ProcessState; ps != nil {
		return ps.String()
	}
	return ""
}

// Result is what an invocation gave besides its response.
type Result struct {
	// RequestID is the invocation's id.
	RequestID string
	// Payload is the response, or the error body the invoker gets when the invocation failed.
	Payload []byte
	// ColdStart is true when the invocation started a new process.
	ColdStart bool
	// InitDuration is how long the new process took to ask for its first invocation, for a cold start.
	InitDuration time.Duration
	// Duration is how long the invocation ran, from the runtime's taking it to its answer.
	Duration time.Duration
	// Logs is what the function wrote during the invocation (for a cold start, its init too), with the platform's
	// START, END and REPORT lines.
	Logs []byte
}

// NewFunction checks cfg and returns its function, ready to be invoked. The process starts at the first invocation.
// Close the function to stop its process.
func NewFunction(cfg Config) (*Function, error) {
	if cfg.Name == "" {
		return nil, errors.New("lambdart: a function needs a name")
	}
	if cfg.AssetDir == "" {
		return nil, fmt.Errorf("lambdart: function %s: no asset directory", cfg.Name)
	}
	bootstrap := filepath.Join(cfg.AssetDir, "bootstrap")
	if st, err := os.Stat(bootstrap); err != nil {
		return nil, fmt.Errorf("lambdart: function %s: %w", cfg.Name, err)
	} else if st.IsDir() || st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("lambdart: function %s: %s is not an executable file", cfg.Name, bootstrap)
	}
	for k := range cfg.Environment {
		if reserved[k] {
			return nil, fmt.Errorf("lambdart: function %s: environment variable %s is reserved by Lambda", cfg.Name, k)
		}
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, fmt.Errorf("lambdart: function %s: invalid environment variable name %q", cfg.Name, k)
		}
	}
	if cfg.Timeout < 0 || cfg.InitTimeout < 0 || cfg.MemoryMB < 0 {
		return nil, fmt.Errorf("lambdart: function %s: negative timeout or memory size", cfg.Name)
	}
	if cfg.Handler == "" {
		cfg.Handler = DefaultHandler
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.MemoryMB == 0 {
		cfg.MemoryMB = DefaultMemoryMB
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	if cfg.LogGroup == "" {
		cfg.LogGroup = "/aws/lambda/" + cfg.Name
	}
	qemu := cfg.QEMU
	if qemu == "" {
		var err error
		if qemu, err = FindQEMU(); err != nil {
			return nil, fmt.Errorf("lambdart: function %s: %w", cfg.Name, err)
		}
	}
	logFile, err := os.CreateTemp("", "lambdart-"+sanitize(cfg.Name)+"-*.log")
	if err != nil {
		return nil, fmt.Errorf("lambdart: function %s: log file: %w", cfg.Name, err)
	}
	// The process writes to the file itself (O_APPEND, shared with our platform lines): a line the handler wrote
	// before it answered is in the file when the answer arrives.
	name := logFile.Name()
	logFile.Close()
	if logFile, err = os.OpenFile(name, os.O_RDWR|os.O_APPEND, 0o600); err != nil {
		os.Remove(name)
		return nil, fmt.Errorf("lambdart: function %s: log file: %w", cfg.Name, err)
	}
	return &Function{
		cfg:       cfg,
		arn:       fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.Account, cfg.Name),
		qemu:      qemu,
		bootstrap: bootstrap,
		logPath:   name,
		logFile:   logFile,
	}, nil
}

// Name is the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// ARN is the function's unqualified ARN.
func (f *Function) ARN() string { return f.arn }

// Timeout is the function's timeout.
func (f *Function) Timeout() time.Duration { return f.cfg.Timeout }

// Invoke runs one invocation with payload as its event and returns the response. The error is a *[FunctionError]
// when the runtime reported one (a handler's error, a panic), a *[RuntimeError] when the process exited, failed
// its initialization or timed out, and the context's error when ctx ended first (the process is then killed).
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := f.Run(ctx, Invocation{Payload: payload})
	if err != nil {
		return nil, err
	}
	return res.Payload, nil
}

// Run is [Function.Invoke] with the whole invocation and its result. The result is nil only when the invocation
// never reached a process (the process could not start, ctx ended or the function is closed first); otherwise it
// comes with the error too, with the error body in Payload.
func (f *Function) Run(ctx context.Context, inv Invocation) (*Result, error) {
	f.run.Lock()
	defer f.run.Unlock()
	defer f.echo()
	if f.closing.Load() {
		return nil, fmt.Errorf("lambdart: function %s is closed", f.cfg.Name)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if inv.InvokedFunctionARN == "" {
		inv.InvokedFunctionARN = f.arn
	}
	inv.Timeout = f.cfg.Timeout
	f.invocations.Add(1)
	res := &Result{RequestID: inv.RequestID}
	logStart := f.logSize()

	for attempt := 0; ; attempt++ {
		env := f.current()
		cold := env == nil || env.dead()
		if cold {
			if env != nil {
				f.discard(env)
			}
			var err error
			if env, err = f.start(ctx); err != nil {
				return nil, err
			}
			res.ColdStart = true
			if err := f.awaitInit(ctx, env, inv.RequestID, res); err != nil {
				f.platformStart(inv.RequestID)
				return f.fail(res, logStart, err)
			}
		}
		if attempt == 0 {
			f.platformStart(inv.RequestID)
		}
		call := env.api.Send(inv)
		select {
		case <-call.Delivered():
		case <-env.exited:
			if !cold && attempt == 0 {
				// The warm process ended (say, after a panic it reported) before it took this invocation:
				// Lambda would have given it a new execution environment.
				continue
			}
			return f.fail(res, logStart, f.exitError(env, inv.RequestID, false))
		case <-ctx.Done():
			f.discard(env)
			return f.fail(res, logStart, ctx.Err())
		}
		delivered := time.Now()
		response, err := f.await(ctx, env, call)
		res.Duration = time.Since(delivered)
		if err != nil {
			return f.fail(res, logStart, err)
		}
		res.Payload = response
		f.platformEnd(res, nil)
		res.Logs = f.logsSince(logStart)
		return res, nil
	}
}

// await waits for the runtime's answer to a call it took, within the call's deadline.
func (f *Function) await(ctx context.Context, env *environment, call *Call) ([]byte, error) {
	timer := time.NewTimer(time.Until(call.Deadline()))
	defer timer.Stop()
	select {
	case <-call.Done():
		return call.Result()
	case <-env.exited:
		// An answer that arrived just before the exit (a panic the runtime reported) is the answer.
		select {
		case <-call.Done():
			return call.Result()
		default:
			return nil, f.exitError(env, call.RequestID(), false)
		}
	case <-timer.C:
		f.discard(env)
		id, secs := call.RequestID(), f.cfg.Timeout.Seconds()
		f.platformLine(fmt.Sprintf("%s %s Task timed out after %.2f seconds",
			time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), id, secs))
		return nil, &RuntimeError{Function: f.cfg.Name, RequestID: id, Type: ErrorTypeTimeout,
			Message:    fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, secs),
			ExitStatus: env.exitStatus(), LogTail: lastLines(f.logsSince(env.logOffset), logTailLines)}
	case <-ctx.Done():
		f.discard(env)
		return nil, ctx.Err()
	}
}

// fail ends an invocation that a process took no answer for.
func (f *Function) fail(res *Result, logStart int64, err error) (*Result, error) {
	f.platformEnd(res, err)
	res.Payload = payloadOf(err)
	res.Logs = f.logsSince(logStart)
	return res, err
}

// payloadOf is the error body an invoker gets for err, nil for an error that is no function's.
func payloadOf(err error) []byte {
	var fe *FunctionError
	var re *RuntimeError
	switch {
	case errors.As(err, &fe):
		return fe.Payload
	case errors.As(err, &re):
		return re.Payload()
	}
	return nil
}

// awaitInit waits for a new process to ask for its first invocation.
func (f *Function) awaitInit(ctx context.Context, env *environment, requestID string, res *Result) error {
	timer := time.NewTimer(f.cfg.InitTimeout)
	defer timer.Stop()
	select {
	case <-env.api.Ready():
		res.InitDuration = time.Since(env.started)
		f.coldStarts.Add(1)
		return nil
	case <-env.api.InitFailed():
		return f.initError(env, requestID)
	case <-env.exited:
		if env.api.InitError() != nil {
			return f.initError(env, requestID)
		}
		return f.exitError(env, requestID, true)
	case <-timer.C:
		f.discard(env)
		return &RuntimeError{Function: f.cfg.Name, RequestID: requestID, Type: ErrorTypeTimeout, Init: true,
			Message: fmt.Sprintf("RequestId: %s Error: INIT phase timed out after %.2f seconds", requestID, f.cfg.InitTimeout.Seconds()),
			LogTail: lastLines(f.logsSince(env.logOffset), logTailLines)}
	case <-ctx.Done():
		f.discard(env)
		return ctx.Err()
	}
}

// initError reports what the runtime posted to /runtime/init/error. The runtime exits after reporting; it is
// killed if it does not.
func (f *Function) initError(env *environment, requestID string) error {
	select {
	case <-env.exited:
	case <-time.After(500 * time.Millisecond):
	}
	f.discard(env)
	ie := env.api.InitError()
	return &RuntimeError{Function: f.cfg.Name, RequestID: requestID, Type: ie.Type, Message: ie.Message, Init: true,
		ExitStatus: env.exitStatus(), LogTail: lastLines(f.logsSince(env.logOffset), logTailLines)}
}

func (f *Function) exitError(env *environment, requestID string, init bool) error {
	<-env.exited
	f.discard(env)
	status := env.exitStatus()
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, status)
	if env.cmd.ProcessState != nil && env.cmd.ProcessState.Success() {
		msg = fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", requestID)
	}
	return &RuntimeError{Function: f.cfg.Name, RequestID: requestID, Type: ErrorTypeExit, Message: msg, Init: init,
		ExitStatus: status, LogTail: lastLines(f.logsSince(env.logOffset), logTailLines)}
}

func (f *Function) current() *environment {
	f.envMu.Lock()
	defer f.envMu.Unlock()
	return f.env
}

// discard kills env and forgets it, so the next invocation starts a new process.
func (f *Function) discard(env *environment) {
	env.kill()
	f.envMu.Lock()
	if f.env == env {
		f.env = nil
	}
	f.envMu.Unlock()
}

// start starts a new process with a Runtime API of its own.
func (f *Function) start(ctx context.Context) (*environment, error) {
	var creds Credentials
	if f.cfg.Credentials != nil {
		var err error
		if creds, err = f.cfg.Credentials(ctx); err != nil {
			return nil, fmt.Errorf("lambdart: function %s: credentials: %w", f.cfg.Name, err)
		}
	}
	api, err := NewRuntimeAPI()
	if err != nil {
		return nil, fmt.Errorf("lambdart: function %s: %w", f.cfg.Name, err)
	}
	cmd := exec.Command(f.qemu, f.bootstrap)
	cmd.Dir = f.cfg.AssetDir
	cmd.Env = f.environ(api.Addr(), creds, logStreamName())
	cmd.Stdout, cmd.Stderr = f.logFile, f.logFile
	cmd.SysProcAttr = sysProcAttr()
	env := &environment{api: api, cmd: cmd, exited: make(chan struct{}), logOffset: f.logSize()}
	f.envMu.Lock()
	defer f.envMu.Unlock()
	if f.closing.Load() {
		api.Close()
		return nil, fmt.Errorf("lambdart: function %s is closed", f.cfg.Name)
	}
	env.started = time.Now()
	if err := cmd.Start(); err != nil {
		api.Close()
		return nil, fmt.Errorf("lambdart: function %s: start %s %s: %w", f.cfg.Name, f.qemu, f.bootstrap, err)
	}
	go func() {
		cmd.Wait()
		close(env.exited)
	}()
	f.env = env
	return env, nil
}

// environ is the environment of the function's process with the Runtime API at runtimeAPI: Config.Environment, the
// credentials, the endpoints and what Lambda sets (AWS_LAMBDA_*, AWS_REGION, AWS_DEFAULT_REGION, _HANDLER,
// LAMBDA_TASK_ROOT, TZ), sorted.
func (f *Function) environ(runtimeAPI string, creds Credentials, logStream string) []string {
	env := map[string]string{}
	for k, v := range f.cfg.Environment {
		env[k] = v
	}
	set := func(k, v string) {
		if v != "" {
			env[k] = v
		}
	}
	set("AWS_ENDPOINT_URL", f.cfg.EndpointURL)
	for svc, url := range f.cfg.ServiceEndpoints {
		set("AWS_ENDPOINT_URL_"+strings.ToUpper(svc), url)
	}
	set("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	set("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	set("AWS_SESSION_TOKEN", creds.SessionToken)
	set("AWS_LAMBDA_RUNTIME_API", runtimeAPI)
	set("AWS_LAMBDA_FUNCTION_NAME", f.cfg.Name)
	set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", strconv.Itoa(f.cfg.MemoryMB))
	set("AWS_LAMBDA_LOG_GROUP_NAME", f.cfg.LogGroup)
	set("AWS_LAMBDA_LOG_STREAM_NAME", logStream)
	set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
	set("AWS_REGION", f.cfg.Region)
	set("AWS_DEFAULT_REGION", f.cfg.Region)
	set("_HANDLER", f.cfg.Handler)
	set("LAMBDA_TASK_ROOT", f.cfg.AssetDir)
	set("TZ", ":UTC")
	if f.jsonLogs() {
		set("AWS_LAMBDA_LOG_FORMAT", "JSON")
		set("AWS_LAMBDA_LOG_LEVEL", strings.ToUpper(f.cfg.LogLevel))
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (f *Function) jsonLogs() bool { return strings.EqualFold(f.cfg.LogFormat, "JSON") }

// logStreamName is a log stream name as Lambda makes them: 2006/01/02/[$LATEST]<32 hex digits>.
func logStreamName() string {
	return time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + strings.ReplaceAll(newRequestID(), "-", "")
}

// Stats counts a function's invocations and cold starts.
type Stats struct {
	Invocations int // invocations run, whatever their outcome (a DryRun is none)
	ColdStarts  int // processes started that got as far as asking for an invocation
}

// Stats returns how many invocations the function has run and how many processes it has started that got as far
// as asking for an invocation.
func (f *Function) Stats() Stats {
	return Stats{Invocations: int(f.invocations.Load()), ColdStarts: int(f.coldStarts.Load())}
}

// Logs returns everything the function's processes wrote to stdout and stderr, interleaved as written, with the
// platform's lines (START, END, REPORT, timeouts) as Lambda writes them to the log stream.
func (f *Function) Logs() string {
	f.logMu.Lock()
	final := f.final
	f.logMu.Unlock()
	if final != nil {
		return string(final)
	}
	return string(f.logsSince(0))
}

func (f *Function) logSize() int64 {
	if st, err := f.logFile.Stat(); err == nil {
		return st.Size()
	}
	return 0
}

func (f *Function) logsSince(off int64) []byte {
	size := f.logSize()
	if size <= off {
		return nil
	}
	b := make([]byte, size-off)
	n, _ := f.logFile.ReadAt(b, off)
	return b[:n]
}

// echo sends the complete log lines not echoed yet to Config.Echo.
func (f *Function) echo() {
	if f.cfg.Echo == nil {
		return
	}
	f.logMu.Lock()
	defer f.logMu.Unlock()
	b := f.logsSince(f.echoed)
	end := strings.LastIndexByte(string(b), '\n')
	if end < 0 {
		return
	}
	f.echoed += int64(end + 1)
	for _, line := range strings.Split(string(b[:end]), "\n") {
		f.cfg.Echo.Logf("%s: %s", f.cfg.Name, line)
	}
}

func (f *Function) platformLine(line string) {
	io.WriteString(f.logFile, line+"\n")
}

func (f *Function) platformJSON(typ string, record map[string]any) {
	b, _ := json.Marshal(map[string]any{"time": time.Now().UTC().Format(time.RFC3339Nano), "type": typ, "record": record})
	f.platformLine(string(b))
}

func (f *Function) platformStart(requestID string) {
	if f.jsonLogs() {
		f.platformJSON("platform.start", map[string]any{"requestId": requestID, "version": "$LATEST"})
		return
	}
	f.platformLine(fmt.Sprintf("START RequestId: %s Version: $LATEST", requestID))
}

func (f *Function) platformEnd(res *Result, err error) {
	status := "success"
	var re *RuntimeError
	switch {
	case errors.As(err, &re) && re.Type == ErrorTypeTimeout:
		status = "timeout"
	case err != nil:
		status = "error"
	}
	ms := float64(res.Duration.Microseconds()) / 1000
	if f.jsonLogs() {
		metrics := map[string]any{"durationMs": ms, "billedDurationMs": billed(res.Duration), "memorySizeMB": f.cfg.MemoryMB}
		if res.ColdStart {
			metrics["initDurationMs"] = float64(res.InitDuration.Microseconds()) / 1000
		}
		f.platformJSON("platform.report", map[string]any{"requestId": res.RequestID, "status": status, "metrics": metrics})
		return
	}
	f.platformLine("END RequestId: " + res.RequestID)
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB",
		res.RequestID, ms, billed(res.Duration), f.cfg.MemoryMB)
	if res.ColdStart {
		report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(res.InitDuration.Microseconds())/1000)
	}
	if status != "success" {
		report += "\tStatus: " + status
	}
	f.platformLine(report)
}

func billed(d time.Duration) int64 {
	ms := d.Milliseconds()
	if d%time.Millisecond != 0 || ms == 0 {
		ms++
	}
	return ms
}

// Close kills the function's process, if any, waits for a running invocation to end, and removes the log file;
// [Function.Logs] still answers. It is safe to call more than once.
func (f *Function) Close() error {
	f.closed.Do(func() {
		f.closing.Store(true)
		if env := f.current(); env != nil {
			env.kill()
		}
		f.run.Lock()
		defer f.run.Unlock()
		if env := f.current(); env != nil {
			f.discard(env)
		}
		f.echo()
		final := f.logsSince(0)
		if final == nil {
			final = []byte{}
		}
		f.logMu.Lock()
		f.final = final
		f.logMu.Unlock()
		f.logFile.Close()
		os.Remove(f.logPath)
	})
	return nil
}

func sanitize(name string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator || r == '*' {
			return '_'
		}
		return r
	}, name)
}

// FindQEMU returns the path of qemu-aarch64-static: on PATH, or in /usr/bin.
func FindQEMU() (string, error) {
	if p, err := exec.LookPath("qemu-aarch64-static"); err == nil {
		return p, nil
	}
	const usrBin = "/usr/bin/qemu-aarch64-static"
	if st, err := os.Stat(usrBin); err == nil && !st.IsDir() {
		return usrBin, nil
	}
	return "", errors.New("qemu-aarch64-static not found on PATH or in /usr/bin (install the Debian package qemu-user-static)")
}

// QEMU returns the path of qemu-aarch64-static for a test. When it is missing it fails the test under CI=true and
// skips it, loudly, otherwise.
func QEMU(t testing.TB) string {
	t.Helper()
	p, err := FindQEMU()
	if err != nil {
		msg := fmt.Sprintf("cannot run arm64 Lambda bootstraps: %v", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING TEST %s: %s ***\n\n", t.Name(), msg)
		t.Skip(msg)
	}
	return p
}
