package cfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// Option configures Materialize.
type Option func(*options)

type options struct {
	runID     string
	accountID string
	params    map[string]map[string]string
}

// WithRunID sets the run id the generated physical names derive from: the same run id gives the same names. By
// default every Materialize draws a random one, so that several runs can share one moto server.
func WithRunID(id string) Option { return func(o *options) { o.runID = id } }

// WithAccountID sets the value of AWS::AccountId (DefaultAccountID, moto's account, by default).
func WithAccountID(id string) Option { return func(o *options) { o.accountID = id } }

// WithParameters gives parameters of a stack values, overriding their defaults.
func WithParameters(stack string, values map[string]string) Option {
	return func(o *options) {
		if o.params[stack] == nil {
			o.params[stack] = map[string]string{}
		}
		for k, v := range values {
			o.params[stack][k] = v
		}
	}
}

// Deployment is an assembly materialized in moto: what was created, what was only recorded, and how every
// reference resolved. Its methods are safe for concurrent use; its fields are not to be modified.
type Deployment struct {
	// Assembly is the assembly materialized.
	Assembly *Assembly
	// Region is the region of the resources (the aws.Config's region).
	Region string
	// AccountID is the value of AWS::AccountId.
	AccountID string
	// RunID is the run id the generated physical names derive from.
	RunID string
	// Resources are every resource of the assembly, in creation order, whether created in moto or only recorded.
	Resources []*DeployedResource
	// Skipped lists the resources that were not created in moto, and why.
	Skipped []Skipped
	// Gaps lists the template settings that were not applied in moto: properties this package does not translate
	// and settings moto refused. Each names the stack, the resource and the setting.
	Gaps []string
	// Elapsed is how long Materialize took.
	Elapsed time.Duration

	mu        sync.Mutex // guards resolver, whose caches fill lazily
	resolver  *Resolver
	byKey     map[resKey]*DeployedResource
	envs      map[resKey]map[string]string
	policies  map[resKey][]PolicyDocument
	roleNames map[string]resKey
}

// DeployedResource is one resource of a Deployment.
type DeployedResource struct {
	// Stack is the name of the resource's stack.
	Stack string
	// LogicalID is the resource's logical id.
	LogicalID string
	// Type is the resource's type.
	Type string
	// PhysicalID is what Ref returns for the resource, "" when it has none (see Skipped).
	PhysicalID string
	// Attributes are what Fn::GetAtt returns for the resource, by attribute name.
	Attributes map[string]string
	// Properties are the resource's properties with every intrinsic resolved; nil when its condition is false.
	Properties map[string]any
	// Materialized reports whether the resource was created in moto; false when it is only recorded.
	Materialized bool
}

// Skipped is a resource that was not created in moto.
type Skipped struct {
	// Stack is the name of the resource's stack.
	Stack string
	// LogicalID is the resource's logical id.
	LogicalID string
	// Type is the resource's type.
	Type string
	// Reason says why it was not created, and whether references to it still resolve.
	Reason string
}

// PolicyDocument is one policy of an IAM role.
type PolicyDocument struct {
	// Name is the inline policy's name, or the managed policy's ARN.
	Name string
	// Source is the logical id of the AWS::IAM::Policy or AWS::IAM::ManagedPolicy that attaches the policy, "" when
	// the role itself holds it (Policies, ManagedPolicyArns).
	Source string
	// ManagedPolicyARN is the ARN of a managed policy, "" for an inline policy.
	ManagedPolicyARN string
	// Document is the resolved policy document, nil for a managed policy the assembly does not define.
	Document json.RawMessage
}

type resKey struct{ stack, id string }

// Resource returns a resource of the deployment, nil when there is no such resource.
func (d *Deployment) Resource(stack, logicalID string) *DeployedResource {
	return d.byKey[resKey{stack, logicalID}]
}

// Ref returns what Ref returns for a resource (or a parameter) of a stack: its physical id. An unknown or
// uncreated resource is a *RefError.
func (d *Deployment) Ref(stack, logicalID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resolver.ResolveString(stack, "", map[string]any{"Ref": logicalID})
}

// Attr returns what Fn::GetAtt returns for an attribute of a resource of a stack. An unknown resource or attribute
// is a *RefError.
func (d *Deployment) Attr(stack, logicalID, attr string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resolver.ResolveString(stack, "", map[string]any{"Fn::GetAtt": []any{logicalID, attr}})
}

// Resolve resolves the intrinsics of any value in the context of a stack, as the stack's template would.
func (d *Deployment) Resolve(stack string, v any) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resolver.Resolve(stack, "", v)
}

// ImportValue returns the value exported under a name, as Fn::ImportValue does.
func (d *Deployment) ImportValue(name string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resolver.ImportValue(name)
}

// Output returns the resolved value of an output of a stack.
func (d *Deployment) Output(stack, outputID string) (string, error) {
	s := d.Assembly.Stack(stack)
	if s == nil || s.Outputs[outputID] == nil {
		return "", fmt.Errorf("stack %s has no output %s", stack, outputID)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.resolver.ResolveString(stack, "Outputs."+outputID, s.Outputs[outputID].Value)
}

// Properties returns the resolved properties of a resource, nil when there is no such resource or its condition is
// false. The map is a copy.
func (d *Deployment) Properties(stack, logicalID string) map[string]any {
	r := d.byKey[resKey{stack, logicalID}]
	if r == nil || r.Properties == nil {
		return nil
	}
	return deepCopy(r.Properties).(map[string]any)
}

// Environment returns a function's environment variables, resolved; nil when the function is not part of the
// deployment.
func (d *Deployment) Environment(fn *Function) map[string]string {
	env, ok := d.envs[resKey{fn.Stack, fn.LogicalID}]
	if !ok {
		return nil
	}
	out := make(map[string]string, len(env))
	for k, v := range env {
		out[k] = v
	}
	return out
}

// Policies returns the policies of a role of the assembly: its own inline policies and managed policy ARNs, then
// those AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources attach, in creation order.
func (d *Deployment) Policies(stack, roleLogicalID string) []PolicyDocument {
	return append([]PolicyDocument(nil), d.policies[resKey{stack, roleLogicalID}]...)
}

// RoleARN returns the ARN of a role of the assembly.
func (d *Deployment) RoleARN(stack, roleLogicalID string) (string, error) {
	return d.Attr(stack, roleLogicalID, "Arn")
}

// Materialize creates the assembly's data resources in the AWS endpoint of cfg (moto server), stack after stack in
// deployment order and resource after resource in dependency order, resolving every intrinsic function on the way.
// The region is cfg.Region. It fails on the first resource moto refuses to create and on the first reference that
// does not resolve (what it created until then stays in moto); settings moto does not support are listed in the
// Deployment's Gaps instead.
func Materialize(ctx context.Context, cfg aws.Config, a *Assembly, opts ...Option) (*Deployment, error) {
	start := time.Now()
	o := options{accountID: DefaultAccountID, params: map[string]map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Region == "" {
		return nil, errors.New("materialize: the aws.Config has no region")
	}
	if o.runID == "" {
		b := make([]byte, 4)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		o.runID = hex.EncodeToString(b)
	}
	r := NewResolver(a, cfg.Region, o.accountID)
	for stack, values := range o.params {
		if a.Stack(stack) == nil {
			return nil, fmt.Errorf("materialize: parameters for stack %s, which the assembly does not hold", stack)
		}
		for k, v := range values {
			r.SetParameter(stack, k, v)
		}
	}
	d := &Deployment{
		Assembly: a, Region: cfg.Region, AccountID: o.accountID, RunID: o.runID,
		resolver: r, byKey: map[resKey]*DeployedResource{}, envs: map[resKey]map[string]string{},
		policies: map[resKey][]PolicyDocument{}, roleNames: map[string]resKey{},
	}
	m := &materializer{d: d, c: newClients(cfg)}
	for _, s := range a.Stacks {
		order, err := resourceOrder(s)
		if err != nil {
			return nil, fmt.Errorf("materialize: %w", err)
		}
		for _, id := range order {
			if err := m.resource(ctx, s.Resources[id]); err != nil {
				return nil, fmt.Errorf("materialize: %w", err)
			}
		}
		m.applyDeferred(ctx)
	}
	d.Elapsed = time.Since(start)
	return d, nil
}

// clients are the service clients Materialize uses.
type clients struct {
	kinesis  *kinesis.Client
	s3       *s3.Client
	dynamodb *dynamodb.Client
	sqs      *sqs.Client
	sns      *sns.Client
	events   *eventbridge.Client
	sfn      *sfn.Client
	iam      *iam.Client
	kms      *kms.Client
}

func newClients(cfg aws.Config) *clients {
	return &clients{
		kinesis:  kinesis.NewFromConfig(cfg),
		s3:       s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		dynamodb: dynamodb.NewFromConfig(cfg),
		sqs:      sqs.NewFromConfig(cfg),
		sns:      sns.NewFromConfig(cfg),
		events:   eventbridge.NewFromConfig(cfg),
		sfn:      sfn.NewFromConfig(cfg),
		iam:      iam.NewFromConfig(cfg),
		kms:      kms.NewFromConfig(cfg),
	}
}

// materializer creates the resources of one Materialize run.
type materializer struct {
	d *Deployment
	c *clients
	// deferred are settings retried when the stack's other resources exist.
	deferred []deferredSetting
}

// deferredSetting is a setting moto refuses until another resource of the stack exists. A bucket's access logging
// is one: moto checks that the target bucket's policy lets the logging service write, but that policy names the
// logging bucket, so CloudFormation's order creates it after the bucket.
type deferredSetting struct {
	r     *Resource
	what  string
	apply func(context.Context) error
}

// later retries a refused setting once the stack's resources exist; if it still fails, it is a gap.
func (m *materializer) later(r *Resource, what string, apply func(context.Context) error) {
	m.deferred = append(m.deferred, deferredSetting{r, what, apply})
}

func (m *materializer) applyDeferred(ctx context.Context) {
	for _, s := range m.deferred {
		if err := s.apply(ctx); err != nil {
			m.gap(s.r, "%s: %v", s.what, err)
		}
	}
	m.deferred = nil
}

// kind says how Materialize handles a resource type: create it in moto, or only record a CloudFormation-like
// physical id and attributes (skip says why).
type kind struct {
	create func(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error)
	record func(m *materializer, r *Resource, p *props) (string, map[string]string)
	skip   string
}

// kinds maps the resource types Materialize knows to how it handles them. Custom::* types are handled as custom
// resources; any other type is reported as unknown.
var kinds = map[string]kind{
	"AWS::Kinesis::Stream":                 {create: createStream},
	"AWS::Kinesis::StreamConsumer":         {create: createStreamConsumer},
	"AWS::S3::Bucket":                      {create: createBucket},
	"AWS::S3::BucketPolicy":                {create: createBucketPolicy},
	"AWS::DynamoDB::Table":                 {create: createTable},
	"AWS::SQS::Queue":                      {create: createQueue},
	"AWS::SQS::QueuePolicy":                {create: createQueuePolicy},
	"AWS::SNS::Topic":                      {create: createTopic},
	"AWS::SNS::Subscription":               {create: createSubscription},
	"AWS::SNS::TopicPolicy":                {create: createTopicPolicy},
	"AWS::Events::EventBus":                {create: createEventBus},
	"AWS::Events::Rule":                    {create: createRule},
	"AWS::StepFunctions::StateMachine":     {create: createStateMachine},
	"AWS::IAM::Role":                       {create: createRole},
	"AWS::IAM::Policy":                     {create: createPolicy},
	"AWS::IAM::ManagedPolicy":              {create: createManagedPolicy},
	"AWS::KMS::Key":                        {create: createKey},
	"AWS::KMS::Alias":                      {create: createAlias},
	"AWS::Lambda::Function":                {record: recordFunction, skip: "Lambda functions are not created in moto: the rehearsal runs their bootstrap; their name and ARN are recorded"},
	"AWS::Lambda::EventSourceMapping":      {record: recordEventSourceMapping, skip: "event source mappings are driven by the rehearsal, from the resolved Properties; a mapping id is recorded"},
	"AWS::Lambda::Permission":              {record: recordGenerated(255, nil), skip: "function resource policies are not materialized; an id is recorded"},
	"AWS::Logs::LogGroup":                  {record: recordLogGroup, skip: "CloudWatch Logs is not materialized; the log group's name and ARN are recorded"},
	"AWS::Logs::LogStream":                 {record: recordNamed("LogStreamName", 512), skip: "CloudWatch Logs is not materialized; the log stream's name is recorded"},
	"AWS::CloudWatch::Alarm":               {record: recordAlarm, skip: "CloudWatch alarms are not materialized; the alarm's name and ARN are recorded"},
	"AWS::KinesisFirehose::DeliveryStream": {record: recordDeliveryStream, skip: "Firehose is driven by the rehearsal, from the resolved Properties; the delivery stream's name and ARN are recorded"},
	"AWS::CDK::Metadata":                   {record: recordGenerated(255, nil), skip: "CDK metadata"},
}

const customSkip = "custom resources need their provider function, which is not run; a physical id is recorded and the resolved Properties are kept"

func (m *materializer) resource(ctx context.Context, r *Resource) error {
	d := m.d
	dr := &DeployedResource{Stack: r.Stack, LogicalID: r.LogicalID, Type: r.Type}
	key := resKey{r.Stack, r.LogicalID}
	d.Resources = append(d.Resources, dr)
	d.byKey[key] = dr

	if r.Condition != "" {
		yes, err := d.resolver.Condition(r.Stack, r.Condition)
		if err != nil {
			return err
		}
		if !yes {
			reason := "its condition " + r.Condition + " is false"
			d.resolver.recordMissing(r.Stack, r.LogicalID, reason)
			d.Skipped = append(d.Skipped, Skipped{r.Stack, r.LogicalID, r.Type, reason})
			return nil
		}
	}
	resolved, err := d.resolver.Resolve(r.Stack, r.LogicalID, r.Properties)
	if err != nil {
		return err
	}
	dr.Properties, _ = resolved.(map[string]any)
	if dr.Properties == nil {
		dr.Properties = map[string]any{}
	}
	p := newProps(deepCopy(dr.Properties).(map[string]any))

	k, known := kinds[r.Type]
	switch {
	case isCustom(r.Type):
		k = kind{record: recordGenerated(255, nil), skip: customSkip}
	case !known:
		reason := "unknown resource type: not materialized, and references to it do not resolve"
		d.resolver.recordMissing(r.Stack, r.LogicalID, "unknown resource type")
		d.Skipped = append(d.Skipped, Skipped{r.Stack, r.LogicalID, r.Type, reason})
		return nil
	}

	var id string
	var attrs map[string]string
	if k.create != nil {
		id, attrs, err = k.create(ctx, m, r, p)
		if err != nil {
			return fmt.Errorf("stack %s, resource %s (%s): %w", r.Stack, r.LogicalID, r.Type, err)
		}
		if err := p.err(); err != nil {
			return fmt.Errorf("stack %s, resource %s (%s): %w", r.Stack, r.LogicalID, r.Type, err)
		}
		dr.Materialized = true
		for _, u := range p.unused() {
			m.gap(r, "property %s is not applied", u)
		}
	} else {
		id, attrs = k.record(m, r, p)
		if err := p.err(); err != nil {
			return fmt.Errorf("stack %s, resource %s (%s): %w", r.Stack, r.LogicalID, r.Type, err)
		}
		d.Skipped = append(d.Skipped, Skipped{r.Stack, r.LogicalID, r.Type, k.skip})
	}
	dr.PhysicalID, dr.Attributes = id, attrs
	d.resolver.Record(r.Stack, r.LogicalID, id, attrs)

	if r.Type == "AWS::Lambda::Function" {
		env, err := functionEnvironment(dr.Properties)
		if err != nil {
			return fmt.Errorf("stack %s, resource %s (%s): %w", r.Stack, r.LogicalID, r.Type, err)
		}
		d.envs[key] = env
	}
	return nil
}

// gap records a template setting that is not applied in moto.
func (m *materializer) gap(r *Resource, format string, args ...any) {
	m.d.Gaps = append(m.d.Gaps, fmt.Sprintf("%s/%s (%s): %s", r.Stack, r.LogicalID, r.Type, fmt.Sprintf(format, args...)))
}

// name returns the physical name of a resource: the template's own (the property nameProp) when it sets one,
// otherwise a CloudFormation-like generated name of at most maxLen characters.
func (m *materializer) name(r *Resource, p *props, nameProp string, maxLen int, lower bool) string {
	if nameProp != "" && p.has(nameProp) {
		return p.str(nameProp)
	}
	return physicalName(m.d.RunID, r.Stack, r.LogicalID, maxLen, lower)
}

func (m *materializer) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, m.d.Region, m.d.AccountID, resource)
}

func recordFunction(m *materializer, r *Resource, p *props) (string, map[string]string) {
	name := m.name(r, p, "FunctionName", 64, false)
	return name, map[string]string{"Arn": m.arn("lambda", "function:"+name)}
}

func recordEventSourceMapping(m *materializer, r *Resource, p *props) (string, map[string]string) {
	id := uuidFrom(m.d.RunID, r.Stack, r.LogicalID)
	return id, map[string]string{"Id": id, "EventSourceMappingArn": m.arn("lambda", "event-source-mapping:"+id)}
}

func recordLogGroup(m *materializer, r *Resource, p *props) (string, map[string]string) {
	name := m.name(r, p, "LogGroupName", 512, false)
	return name, map[string]string{"Arn": m.arn("logs", "log-group:"+name+":*")}
}

func recordAlarm(m *materializer, r *Resource, p *props) (string, map[string]string) {
	name := m.name(r, p, "AlarmName", 255, false)
	return name, map[string]string{"Arn": m.arn("cloudwatch", "alarm:"+name)}
}

func recordDeliveryStream(m *materializer, r *Resource, p *props) (string, map[string]string) {
	name := m.name(r, p, "DeliveryStreamName", 64, false)
	return name, map[string]string{"Arn": m.arn("firehose", "deliverystream/"+name)}
}

func recordNamed(nameProp string, maxLen int) func(*materializer, *Resource, *props) (string, map[string]string) {
	return func(m *materializer, r *Resource, p *props) (string, map[string]string) {
		return m.name(r, p, nameProp, maxLen, false), nil
	}
}

func recordGenerated(maxLen int, attrs map[string]string) func(*materializer, *Resource, *props) (string, map[string]string) {
	return func(m *materializer, r *Resource, p *props) (string, map[string]string) {
		return physicalName(m.d.RunID, r.Stack, r.LogicalID, maxLen, false), attrs
	}
}

// functionEnvironment reads the resolved Environment.Variables of a function as strings.
func functionEnvironment(props map[string]any) (map[string]string, error) {
	env := map[string]string{}
	e, _ := props["Environment"].(map[string]any)
	vars, _ := e["Variables"].(map[string]any)
	for k, v := range vars {
		s, ok := scalarString(v)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is %s, not a string", k, compact(v))
		}
		env[k] = s
	}
	return env, nil
}

// resourceOrder orders the resources of a stack so that each comes after what it references and depends on,
// keeping the template's order otherwise.
func resourceOrder(s *Stack) ([]string, error) {
	deps := map[string][]string{}
	for id, r := range s.Resources {
		ds := references(s, r.Properties)
		ds = append(ds, r.DependsOn...)
		deps[id] = ds
	}
	var order []string
	done := map[string]bool{}
	for len(order) < len(s.Order) {
		progressed := false
		for _, id := range s.Order {
			if done[id] {
				continue
			}
			ready := true
			for _, d := range deps[id] {
				if !done[d] && d != id {
					ready = false
					break
				}
			}
			if ready {
				order = append(order, id)
				done[id] = true
				progressed = true
			}
		}
		if !progressed {
			var left []string
			for _, id := range s.Order {
				if !done[id] {
					left = append(left, id)
				}
			}
			return nil, fmt.Errorf("stack %s: resources depend on each other in a cycle: %s", s.Name, strings.Join(left, ", "))
		}
	}
	return order, nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// errorCode returns the API error code of an AWS SDK error, "" when it has none.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}
