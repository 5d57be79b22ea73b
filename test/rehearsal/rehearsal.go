package rehearsal

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/eventlake/eventlake/test/rehearsal/cfn"
	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

// Rehearsal is a synthesized blueprint deployed for a test: its data resources and IAM roles in an IAM-enforcing moto
// server, and each of its Lambda functions ready to run its own bootstrap under qemu with its template environment
// and its role's credentials. See [Start].
type Rehearsal struct {
	moto       *Moto
	deployment *cfn.Deployment
	gate       *gate
	gateURL    string
	front      *lambdart.Front
	frontURL   string
	functions  []*Function
	byKey      map[string]*Function
	byName     map[string]*Function
	sts        *sts.Client
	iam        *iam.Client
	taken      int      // denials taken or checked
	problems   []string // what Start found wrong in the templates' IAM before anything ran, reported with t.Error
}

// Function is one AWS::Lambda::Function of the templates, ready to run: a [lambdart.Function] (Invoke, Run, Logs,
// Stats, Name, ARN) with where it comes from.
type Function struct {
	*lambdart.Function
	// Spec is the function as the template describes it.
	Spec *cfn.Function
	// Stack and LogicalID name the function in the templates.
	Stack, LogicalID string
	// RoleLogicalID, RoleName and RoleARN name its execution role.
	RoleLogicalID, RoleName, RoleARN string
	// Environment is the template's environment, resolved: exactly what the process gets besides Lambda's own
	// variables, the credentials and the endpoints.
	Environment map[string]string

	config  lambdart.Config
	session string
	account string
}

// Config returns the configuration the function runs with (its Environment a copy): a test can change it and start
// a function of its own with [lambdart.NewFunction], such as one with a variable missing.
func (f *Function) Config() lambdart.Config {
	c := f.config
	c.Environment = make(map[string]string, len(f.config.Environment))
	for k, v := range f.config.Environment {
		c.Environment[k] = v
	}
	c.ServiceEndpoints = make(map[string]string, len(f.config.ServiceEndpoints))
	for k, v := range f.config.ServiceEndpoints {
		c.ServiceEndpoints[k] = v
	}
	return c
}

// sessionARN is the ARN of the function's assumed-role sessions, as IAM names the caller in a refusal.
func (f *Function) sessionARN() string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", f.account, f.RoleName, f.session)
}

type options struct {
	echo        bool
	materialize []cfn.Option
	lambdaAPI   func(http.Handler) http.Handler
}

// Option configures [Start].
type Option func(*options)

// WithoutEcho keeps the functions' log lines out of the test's log (they stay in each function's Logs).
func WithoutEcho() Option { return func(o *options) { o.echo = false } }

// WithMaterializeOptions passes options to [cfn.Materialize], such as [cfn.WithParameters].
func WithMaterializeOptions(opts ...cfn.Option) Option {
	return func(o *options) { o.materialize = append(o.materialize, opts...) }
}

// WithLambdaAPI puts a handler of the test's between the functions' Lambda endpoint and the Lambda API behind it:
// every request of a function to the Lambda API other than an Invoke of a rehearsal function (which the
// [lambdart.Front] runs) goes through wrap(api), where api is the rehearsal's IAM gate in front of moto. A test
// injects faults there, such as a [fault.Handler] with routes for the event source mapping calls of the subscription
// mapper; requests the handler answers itself reach neither the gate nor moto. The test's own calls (AdminConfig,
// Endpoint) do not go through it.
//
// [fault.Handler]: https://pkg.go.dev/github.com/eventlake/eventlake/test/fault#Handler
func WithLambdaAPI(wrap func(api http.Handler) http.Handler) Option {
	return func(o *options) { o.lambdaAPI = wrap }
}

// AssemblyDir returns the cloud assembly the rehearsal tests run: $EVENTLAKE_ASSEMBLY (`make test` sets it to the
// cdk.out it has just synthesized). When it is not set the test fails under CI=true and is skipped, loudly, otherwise.
func AssemblyDir(t testing.TB) string {
	t.Helper()
	return cfn.AssemblyDir(t)
}

// Start deploys the cloud assembly in assemblyDir for the test, and undoes everything when the test ends:
//
//   - starts an IAM-enforcing moto server of its own ([StartMoto]) and, in front of it, the rehearsal's IAM gate
//     (the functions' AWS_ENDPOINT_URL);
//   - materializes the assembly with the admin user's credentials ([cfn.Materialize]);
//   - prepares each function's execution role: its trust policy must let lambda.amazonaws.com assume it (moto cannot
//     evaluate a service principal, so the role is then made assumable by the admin user, who stands for Lambda);
//     its policies' resources must all be resources of the templates or documented wildcards; and its policies are
//     given to moto widened (see below);
//   - prepares, for every AWS::Lambda::Function, a [lambdart.Function] with its asset, handler, timeout, memory,
//     logging configuration and resolved environment, credentials from an STS AssumeRole of its own role at each
//     cold start, AWS_ENDPOINT_URL the gate and AWS_ENDPOINT_URL_LAMBDA a [lambdart.Front] over all the functions
//     (a Lambda Invoke reaches the rehearsal's own functions; an unknown name gets 404 ResourceNotFoundException);
//   - creates every function in moto's Lambda backend too, with its name, role, runtime, handler, architectures,
//     timeout and memory, and placeholder code (moto never runs it: the Front answers every Invoke of the rehearsal's
//     functions), so that the Lambda API calls that name a function find it, as they would on AWS: moto's
//     CreateEventSourceMapping refuses a function it does not have, and GetFunction answers it.
//
// IAM: moto checks signatures and actions, and resources only for S3, SQS, IAM and STS. For every other service the
// policies moto gets are widened to the resource "*", without conditions or Deny statements, and the gate checks each
// request of a function against the role's policies as written — the action on the resource the request names
// (DynamoDB tables and indexes, item actions inside transactions with dynamodb:EnclosingOperation, Kinesis streams
// and consumers, Step Functions state machines and executions, SNS topics, EventBridge buses, Lambda functions and
// event source mappings), with Deny statements and the usual condition operators. A request whose resource cannot be
// told (a shard iterator's) is left to moto's check of the action.
//
// moto's Lambda API gets a few things wrong that the gate makes right for every caller: the signatures of requests
// without a body or with an ARN in the query or path, enhanced fan-out consumers as event sources, and its answer
// for an unknown mapping (see resignLambdaForMoto and lambdaForMoto).
//
// A request refused, by moto or by the gate, is a [Denial]: it fails the test when the test ends (see
// [Rehearsal.CheckDenials]), unless the test takes it ([Rehearsal.TakeDenials]).
//
// Start needs qemu-aarch64-static ([lambdart.QEMU]) and moto; without them it fails the test under CI=true and skips
// it otherwise.
func Start(t testing.TB, assemblyDir string, opts ...Option) *Rehearsal {
	t.Helper()
	o := options{echo: true}
	for _, opt := range opts {
		opt(&o)
	}
	began := time.Now()
	qemu := lambdart.QEMU(t)
	a, err := cfn.Load(assemblyDir)
	if err != nil {
		t.Fatal(err)
	}
	m := StartMoto(t)
	r := &Rehearsal{moto: m, byKey: map[string]*Function{}, byName: map[string]*Function{}}
	r.gate, err = newGate(m.URL, Region, cfn.DefaultAccountID)
	if err != nil {
		t.Fatal(err)
	}
	r.gate.secrets[m.Admin.AccessKeyID] = m.Admin.SecretAccessKey
	gsrv := httptest.NewServer(r.gate)
	t.Cleanup(gsrv.Close)
	r.gateURL = gsrv.URL
	admin := m.Config(r.gateURL)
	r.sts, r.iam = sts.NewFromConfig(admin), iam.NewFromConfig(admin)
	ctx := context.Background()

	motoReady := time.Since(began)
	d, err := cfn.Materialize(ctx, admin, a, o.materialize...)
	if err != nil {
		t.Fatalf("materialize %s: %v", assemblyDir, err)
	}
	r.deployment = d
	r.gate.region, r.gate.account = d.Region, d.AccountID
	streams := kinesis.NewFromConfig(m.Config("")) // straight to moto: the gate asks while it serves a request
	r.gate.consumerExists = func(ctx context.Context, arn string) error {
		_, err := streams.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn})
		return err
	}

	upstream := r.gateURL
	if o.lambdaAPI != nil {
		api := httptest.NewServer(o.lambdaAPI(r.gate))
		t.Cleanup(api.Close)
		upstream = api.URL
	}
	registry := lambdart.Functions{}
	r.front, err = lambdart.NewFront(registry, upstream)
	if err != nil {
		t.Fatal(err)
	}
	r.front.Account, r.front.Region = d.AccountID, d.Region
	fsrv := httptest.NewServer(&frontGate{g: r.gate, front: r.front})
	r.frontURL = fsrv.URL
	t.Cleanup(func() {
		r.front.Close()
		fsrv.Close()
		for _, fn := range r.functions {
			fn.Close()
		}
		r.CheckDenials(t)
		t.Log(r.iamSummary())
	})

	known := knownARNs(d)
	lc := lambda.NewFromConfig(admin)
	for _, spec := range a.Functions {
		fn, err := r.prepare(ctx, t, spec, known, qemu, o)
		if err != nil {
			t.Fatalf("function %s/%s: %v", spec.Stack, spec.LogicalID, err)
		}
		if err := createInMoto(ctx, lc, fn.Name(), fn.RoleARN, spec); err != nil {
			t.Fatalf("function %s/%s in moto: %v", spec.Stack, spec.LogicalID, err)
		}
		r.functions = append(r.functions, fn)
		r.byKey[roleKey(fn.Stack, fn.LogicalID)] = fn
		r.byName[fn.Name()] = fn
		registry[fn.Name()] = fn.Function
	}
	for _, p := range r.problems {
		t.Error(p)
	}
	t.Logf("rehearsal of %s: moto enforcing IAM in %s, %d resources materialized in %s, %d functions ready in %s",
		assemblyDir, motoReady.Round(time.Millisecond), len(d.Resources), d.Elapsed.Round(time.Millisecond),
		len(r.functions), time.Since(began).Round(time.Millisecond))
	return r
}

// prepare readies a function and, the first time it is met, its role.
func (r *Rehearsal) prepare(ctx context.Context, t testing.TB, spec *cfn.Function, known []string, qemu string, o options) (*Function, error) {
	d := r.deployment
	if spec.AssetDir == "" {
		return nil, fmt.Errorf("its code is not a file asset of the assembly")
	}
	if spec.Role == "" {
		return nil, fmt.Errorf("its Role is not a role of its stack (%v)", spec.RoleProperty)
	}
	name, err := d.Ref(spec.Stack, spec.LogicalID)
	if err != nil {
		return nil, err
	}
	roleName, err := d.Ref(spec.Stack, spec.Role)
	if err != nil {
		return nil, err
	}
	roleARN, err := d.RoleARN(spec.Stack, spec.Role)
	if err != nil {
		return nil, err
	}
	fn := &Function{Spec: spec, Stack: spec.Stack, LogicalID: spec.LogicalID, RoleLogicalID: spec.Role, RoleName: roleName,
		RoleARN: roleARN, Environment: d.Environment(spec), session: sessionName(name), account: d.AccountID}
	if err := r.prepareRole(ctx, fn, known); err != nil {
		return nil, fmt.Errorf("role %s: %w", spec.Role, err)
	}
	cfg := lambdart.Config{
		Name: name, AssetDir: spec.AssetDir, Handler: spec.Handler, Timeout: time.Duration(spec.Timeout) * time.Second,
		MemoryMB: spec.MemorySize, Region: d.Region, Account: d.AccountID, Environment: fn.Environment,
		Credentials: r.credentials(fn), EndpointURL: r.gateURL, ServiceEndpoints: map[string]string{"LAMBDA": r.frontURL},
		QEMU: qemu,
	}
	if lc, ok := d.Properties(spec.Stack, spec.LogicalID)["LoggingConfig"].(map[string]any); ok {
		cfg.LogFormat, _ = lc["LogFormat"].(string)
		cfg.LogLevel, _ = lc["ApplicationLogLevel"].(string)
		cfg.LogGroup, _ = lc["LogGroup"].(string)
	}
	if o.echo {
		cfg.Echo = t
	}
	fn.config = cfg
	fn.Function, err = lambdart.NewFunction(cfg)
	if err != nil {
		return nil, err
	}
	return fn, nil
}

// createInMoto creates a function of the templates in moto's Lambda backend, with its name and role and placeholder
// code (see [Start]).
func createInMoto(ctx context.Context, lc *lambda.Client, name, roleARN string, spec *cfn.Function) error {
	in := &lambda.CreateFunctionInput{
		FunctionName: &name, Role: &roleARN, Runtime: ltypes.Runtime(spec.Runtime), Handler: &spec.Handler,
		Timeout: aws.Int32(int32(spec.Timeout)), MemorySize: aws.Int32(int32(spec.MemorySize)), Description: &spec.Description,
		Code: &ltypes.FunctionCode{ZipFile: placeholderCode},
	}
	for _, a := range spec.Architectures {
		in.Architectures = append(in.Architectures, ltypes.Architecture(a))
	}
	if _, err := lc.CreateFunction(ctx, in); err != nil {
		return fmt.Errorf("CreateFunction %s: %w", name, err)
	}
	return nil
}

// placeholderCode is the code of the functions in moto: a zip of a bootstrap that only says it is none.
var placeholderCode = func() []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("bootstrap")
	io.WriteString(w, "#!/bin/sh\necho 'a placeholder: the deploy rehearsal runs the function from its asset' >&2\nexit 1\n")
	z.Close()
	return b.Bytes()
}()

// prepareRole checks a function role's trust policy and the resources of its policies, makes it assumable by the
// admin user, and gives moto its policies widened. A role shared by functions is prepared once.
func (r *Rehearsal) prepareRole(ctx context.Context, fn *Function, known []string) error {
	d := r.deployment
	key := roleKey(fn.Stack, fn.RoleLogicalID)
	r.gate.mu.Lock()
	_, done := r.gate.roles[key]
	r.gate.mu.Unlock()
	if done {
		return nil
	}
	trust, _ := json.Marshal(d.Properties(fn.Stack, fn.RoleLogicalID)["AssumeRolePolicyDocument"])
	if !trustsLambda(trust) {
		r.problems = append(r.problems, fmt.Sprintf("role %s/%s of function %s/%s: its trust policy does not let lambda.amazonaws.com sts:AssumeRole it: %s",
			fn.Stack, fn.RoleLogicalID, fn.Stack, fn.LogicalID, trust))
	}
	// moto fails (500) on a trust policy with a service principal; the admin user assumes the role as Lambda would.
	assumable := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}]}`, r.moto.AdminARN)
	if _, err := r.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &fn.RoleName, PolicyDocument: &assumable}); err != nil {
		return fmt.Errorf("UpdateAssumeRolePolicy: %w", err)
	}
	rs := &roleState{Stack: fn.Stack, LogicalID: fn.RoleLogicalID, Name: fn.RoleName, ARN: fn.RoleARN}
	wildcards := documentedWildcards(d.Region, d.AccountID)
	for _, pd := range d.Policies(fn.Stack, fn.RoleLogicalID) {
		rp := &rolePolicy{Name: pd.Name, ManagedPolicyARN: pd.ManagedPolicyARN, Source: pd.Source, Document: pd.Document}
		rs.Policies = append(rs.Policies, rp)
		if pd.Document == nil {
			r.gate.note(fmt.Sprintf("role %s/%s: managed policy %s is not in the assembly: the rehearsal cannot check resources against it, moto checks its actions", fn.Stack, fn.RoleLogicalID, pd.ManagedPolicyARN))
			continue
		}
		p, err := parsePolicy(pd.Document)
		if err != nil {
			return fmt.Errorf("policy %s: %w", pd.Name, err)
		}
		rp.parsed = p
		for _, prob := range resourceProblems(p, known, wildcards) {
			r.problems = append(r.problems, fmt.Sprintf("function %s/%s, role %s, policy %s: %s", fn.Stack, fn.LogicalID, fn.RoleLogicalID, policyLabel(pd), prob))
		}
		if err := r.putWidened(ctx, fn.RoleName, rp); err != nil {
			return err
		}
	}
	r.gate.mu.Lock()
	r.gate.roles[key] = rs
	r.gate.mu.Unlock()
	return nil
}

func policyLabel(pd cfn.PolicyDocument) string {
	if pd.Source != "" && pd.Source != pd.Name {
		return pd.Source + " (" + pd.Name + ")"
	}
	return pd.Name
}

// putWidened gives moto a policy of a role, widened (see [widen]): an inline policy replaced, a managed policy of the
// assembly given a new default version.
func (r *Rehearsal) putWidened(ctx context.Context, roleName string, rp *rolePolicy) error {
	w, err := widen(rp.Document)
	if err != nil {
		return fmt.Errorf("policy %s: %w", rp.Name, err)
	}
	doc := string(w)
	if rp.ManagedPolicyARN == "" {
		if _, err := r.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &roleName, PolicyName: &rp.Name, PolicyDocument: &doc}); err != nil {
			return fmt.Errorf("PutRolePolicy %s (widened): %w", rp.Name, err)
		}
		return nil
	}
	if _, err := r.iam.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: &rp.ManagedPolicyARN, PolicyDocument: &doc, SetAsDefault: true}); err != nil {
		return fmt.Errorf("CreatePolicyVersion %s (widened): %w", rp.ManagedPolicyARN, err)
	}
	return nil
}

// trustsLambda reports whether a trust policy lets lambda.amazonaws.com assume the role.
func trustsLambda(doc []byte) bool {
	p, err := parsePolicy(doc)
	if err != nil {
		return false
	}
	for _, s := range p.Statements {
		if s.Effect != "Allow" || !s.grantsAction("sts:AssumeRole") {
			continue
		}
		pr, _ := s.raw["Principal"].(map[string]any)
		svcs, _ := stringList(pr["Service"])
		if slices.Contains(svcs, "lambda.amazonaws.com") {
			return true
		}
	}
	return false
}

// knownARNs are the ARNs of the deployment's resources: physical ids that are ARNs, and attributes that are.
func knownARNs(d *cfn.Deployment) []string {
	var out []string
	for _, res := range d.Resources {
		if strings.HasPrefix(res.PhysicalID, "arn:") {
			out = append(out, res.PhysicalID)
		}
		for _, v := range res.Attributes {
			if strings.HasPrefix(v, "arn:") {
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

var sessionChars = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionName is a role session name for a function: its name, in the characters and length STS accepts.
func sessionName(fn string) string {
	s := sessionChars.ReplaceAllString(fn, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// credentials returns the credentials source of a function: an AssumeRole of its role at each cold start, whose
// access key the gate then knows as the function's.
func (r *Rehearsal) credentials(fn *Function) func(context.Context) (lambdart.Credentials, error) {
	return func(ctx context.Context) (lambdart.Credentials, error) {
		out, err := r.sts.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &fn.RoleARN, RoleSessionName: &fn.session, DurationSeconds: aws.Int32(3600)})
		if err != nil {
			return lambdart.Credentials{}, fmt.Errorf("assume role %s for %s: %w", fn.RoleARN, fn.Name(), err)
		}
		c := out.Credentials
		r.gate.mu.Lock()
		r.gate.keys[aws.ToString(c.AccessKeyId)] = fn
		r.gate.secrets[aws.ToString(c.AccessKeyId)] = aws.ToString(c.SecretAccessKey)
		r.gate.mu.Unlock()
		return lambdart.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}, nil
	}
}

// Function returns the function of a stack with that logical id, nil when there is none.
func (r *Rehearsal) Function(stack, logicalID string) *Function {
	return r.byKey[roleKey(stack, logicalID)]
}

// FunctionNamed returns the function with that physical name (its FunctionName, what Lambda's API knows it by), nil
// when there is none.
func (r *Rehearsal) FunctionNamed(name string) *Function { return r.byName[name] }

// Functions returns every function, in the assembly's order (stack order, then template order).
func (r *Rehearsal) Functions() []*Function { return slices.Clone(r.functions) }

// Deployment returns the materialized assembly: physical ids, attributes, resolved properties and policies.
func (r *Rehearsal) Deployment() *cfn.Deployment { return r.deployment }

// Moto returns the rehearsal's IAM-enforcing moto server.
func (r *Rehearsal) Moto() *Moto { return r.moto }

// AdminConfig returns an AWS SDK configuration with the admin user's credentials (allowed everything), pointed at the
// endpoint the functions use, for a test's own calls and assertions. For the Lambda API, set the client's
// BaseEndpoint to [Rehearsal.FrontURL].
func (r *Rehearsal) AdminConfig() aws.Config { return r.moto.Config(r.gateURL) }

// Endpoint returns the functions' AWS_ENDPOINT_URL: the rehearsal's IAM gate in front of moto.
func (r *Rehearsal) Endpoint() string { return r.gateURL }

// FrontURL returns the functions' AWS_ENDPOINT_URL_LAMBDA: the Lambda API front over the rehearsal's functions.
func (r *Rehearsal) FrontURL() string { return r.frontURL }

// Front returns the Lambda API front, for [lambdart.Front.Wait] on the Event invocations it queued.
func (r *Rehearsal) Front() *lambdart.Front { return r.front }

// RolePolicies returns the policies the rehearsal holds for a function role (the templates', or what a test set with
// [Rehearsal.SetRolePolicy]), unwidened; nil when the role is no function's.
func (r *Rehearsal) RolePolicies(stack, roleLogicalID string) []cfn.PolicyDocument {
	r.gate.mu.Lock()
	defer r.gate.mu.Unlock()
	rs := r.gate.roles[roleKey(stack, roleLogicalID)]
	if rs == nil {
		return nil
	}
	var out []cfn.PolicyDocument
	for _, p := range rs.Policies {
		out = append(out, cfn.PolicyDocument{Name: p.Name, Source: p.Source, ManagedPolicyARN: p.ManagedPolicyARN, Document: slices.Clone(p.Document)})
	}
	return out
}

// SetRolePolicy replaces the document of a policy of a function role (an inline policy by name, or a managed policy
// of the assembly by ARN), or adds an inline policy of that name: in moto, widened, and in the rehearsal's own check,
// as written. The change applies to the next request.
func (r *Rehearsal) SetRolePolicy(ctx context.Context, stack, roleLogicalID, name string, document []byte) error {
	p, err := parsePolicy(document)
	if err != nil {
		return err
	}
	r.gate.mu.Lock()
	rs := r.gate.roles[roleKey(stack, roleLogicalID)]
	r.gate.mu.Unlock()
	if rs == nil {
		return fmt.Errorf("role %s/%s is no function's role", stack, roleLogicalID)
	}
	var rp *rolePolicy
	for _, q := range rs.Policies {
		if q.Name == name {
			rp = q
		}
	}
	if rp == nil {
		rp = &rolePolicy{Name: name}
	} else {
		cp := *rp
		rp = &cp
	}
	rp.Document, rp.parsed = slices.Clone(document), p
	if err := r.putWidened(ctx, rs.Name, rp); err != nil {
		return err
	}
	r.gate.mu.Lock()
	defer r.gate.mu.Unlock()
	if i := slices.IndexFunc(rs.Policies, func(q *rolePolicy) bool { return q.Name == name }); i >= 0 {
		rs.Policies[i] = rp
	} else {
		rs.Policies = append(rs.Policies, rp)
	}
	return nil
}

// iamSummary says what the gate checked with resources, what it left to moto's action check, and what it could not
// evaluate.
func (r *Rehearsal) iamSummary() string {
	g := r.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	list := func(m map[string]int) string {
		var parts []string
		for _, k := range sortedKeys(anyMap(m)) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	}
	s := fmt.Sprintf("IAM: function requests checked with their resources by the rehearsal: %s; by moto: %s; left to moto's action-only check: %s; denials: %d",
		list(g.checked), list(g.byMoto), list(g.unchecked), len(g.denials))
	var notes []string
	for n := range g.notes {
		notes = append(notes, n)
	}
	sort.Strings(notes)
	for _, n := range notes {
		s += "\n  note: " + n
	}
	return s
}

func anyMap(m map[string]int) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
