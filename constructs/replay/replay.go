// Package replay deploys the replay inside the account: a Go Lambda function (lambdas/replay) that replays the data
// lake into one function or one replay stream, and a Step Functions state machine that runs it leg after leg past
// Lambda's 15-minute limit until the whole range is replayed.
//
// Start an execution with the same options as the command line, as JSON:
//
//	{"prefix": "events/2026/11/", "type": "order-*", "batchSize": 500, "concurrency": 8}
//
// The input must name its scope, so that an empty input (an operator's slip) never replays the whole lake into a live
// service: a "prefix" strictly below the lake prefix, a time range ("from", "to" or both, RFC 3339 times), or
// "all": true for the whole lake. It may name only this replay's lake bucket and target, and only known fields (names
// are case-sensitive). An input refused (see replay.Deployment.Confine) fails the execution at once, before anything
// is read or sent, with the error "InputError" and a cause naming the field, the value and what is accepted; it is
// not retried.
//
// Each leg returns the job with its checkpoint and running totals; the execution's output is the last of them, with
// "done": true. A Step Functions loop rather than a function that re-invokes itself: every leg is visible in the
// execution's history, a failed leg is retried with backoff, an operator stops a replay by stopping the execution,
// and the summary is the execution's output.
//
// The function may read only the lake (under its prefix) and deliver only to the function or stream it is made for.
package replay

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/internal/deps"
	"github.com/eventlake/eventlake/contract"
)

// InputErrorName is the error an execution fails with, at once and without retries, when its input is refused.
const InputErrorName = "InputError"

// ReplayProps configures [NewReplay].
type ReplayProps struct {
	// Bucket is the data lake bucket (a datalake's Bucket(), or imported). Required.
	Bucket awss3.IBucket
	// Prefix is the lake's key prefix; the replay may read only under it. Default "events/" (contract.DefaultLakePrefix).
	Prefix *string
	// Function is the function to replay into. Exactly one of Function and Stream.
	Function awslambda.IFunction
	// Stream is the replay stream to write into. Exactly one of Function and Stream.
	Stream awskinesis.IStream
	// SourceStream, when set, is the eventSourceARN of the replayed records.
	SourceStream awskinesis.IStream
	// FunctionOptions override the replay function's settings (memory, …). Its timeout stays 15 minutes.
	FunctionOptions *awslambda.FunctionOptions
}

// Replay is the deployed replay.
type Replay interface {
	constructs.Construct
	// Function runs one leg of a replay.
	Function() awslambda.Function
	// StateMachine runs a replay to the end; start an execution with the replay's options as input.
	StateMachine() awsstepfunctions.StateMachine
}

type deployed struct {
	constructs.Construct
	fn awslambda.Function
	sm awsstepfunctions.StateMachine
}

// NewReplay creates the deployed replay.
func NewReplay(scope constructs.Construct, id *string, props *ReplayProps) Replay {
	where := "replay " + *id
	if props == nil || props.Bucket == nil {
		panic(where + ": ReplayProps.Bucket is required (the data lake bucket)")
	}
	if (props.Function == nil) == (props.Stream == nil) {
		panic(where + ": give exactly one of ReplayProps.Function and ReplayProps.Stream: a replay goes into one function or one replay stream")
	}
	prefix := contract.DefaultLakePrefix
	if props.Prefix != nil {
		prefix = *props.Prefix
	}
	this := constructs.NewConstruct(scope, id)
	opts := awslambda.FunctionOptions{}
	if props.FunctionOptions != nil {
		opts = *props.FunctionOptions
	}
	opts.Timeout = awscdk.Duration_Minutes(jsii.Number(15))
	if opts.MemorySize == nil {
		opts.MemorySize = jsii.Number(1024)
	}
	if opts.Description == nil {
		opts.Description = jsii.String("eventlake replay: one leg of a replay from the data lake")
	}
	cfg := contract.Replay{LakeBucket: *props.Bucket.BucketName(), LakePrefix: prefix}
	if props.Function != nil {
		cfg.TargetFunction = *props.Function.FunctionArn()
	} else {
		cfg.TargetStream = *props.Stream.StreamArn()
	}
	if props.SourceStream != nil {
		cfg.SourceStreamARN = *props.SourceStream.StreamArn()
	}
	// The replay's own variables win over FunctionOptions.Environment's: they confine it to its lake and target.
	env := map[string]*string{}
	if opts.Environment != nil {
		for k, v := range *opts.Environment {
			env[k] = v
		}
	}
	for k, v := range cfg.Env() {
		env[k] = jsii.String(v)
	}
	opts.Environment = &env
	fn := golambda.NewFunction(this, jsii.String("Function"), &golambda.FunctionProps{Package: golambda.Handler("replay"), Options: &opts})
	props.Bucket.GrantRead(fn, jsii.String(prefix+"*"))
	if props.Function != nil {
		// Granted on the replay's role, not through the target's resource policy, so that imported functions work too
		// (a target in another account must also allow the replay's role in its own resource policy).
		awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee: fn, Actions: jsii.Strings("lambda:InvokeFunction"),
			ResourceArns: jsii.Strings(*props.Function.FunctionArn(), *props.Function.FunctionArn()+":*"),
		})
	} else {
		props.Stream.GrantWrite(fn)
		// Each leg checks the stream (DescribeStreamSummary) before it reads the lake.
		props.Stream.Grant(fn, jsii.String("kinesis:DescribeStreamSummary"))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("Serverless-LambdaDLQ"),
		Reason: jsii.String("Invoked synchronously by its Step Functions loop, which retries a failed leg and fails the execution visibly; a DLQ applies to asynchronous invocations only."),
	}}, jsii.Bool(false))
	if role, ok := fn.Role().(awscdk.Resource); ok {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String(fmt.Sprintf("Reads lake objects under the lake prefix %q (keys are time-partitioned and made by Firehose) with the S3 read actions the CDK's grantRead uses, and invokes the target function's versions and aliases (<function ARN>:*).", prefix)),
			AppliesTo: &[]interface{}{
				jsii.String("Action::s3:GetBucket*"), jsii.String("Action::s3:GetObject*"), jsii.String("Action::s3:List*"),
				&cdknag.RegexAppliesTo{Regex: jsii.String(fmt.Sprintf("/^Resource::<.+\\.Arn>\\/%s\\*$/", regexpQuote(prefix)))},
				&cdknag.RegexAppliesTo{Regex: jsii.String(fmt.Sprintf("/^Resource::arn:.*\\/%s\\*$/", regexpQuote(prefix)))},
				&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<.+\\.Arn>:\\*$/")},
			},
		}}, jsii.Bool(true))
	}

	leg := awsstepfunctionstasks.NewLambdaInvoke(this, jsii.String("Leg"), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           fn,
		PayloadResponseOnly:      jsii.Bool(true),
		RetryOnServiceExceptions: jsii.Bool(true),
		Comment:                  jsii.String("Replay until the deadline; return the checkpoint"),
	})
	// A refused input fails the execution at once: retrying it cannot help. Retriers are tried in order, and this
	// one must come before States.TaskFailed, which matches every task error. The name is the Go type of the error
	// the function returns (*replay.InputError), as aws-lambda-go reports it.
	leg.AddRetry(&awsstepfunctions.RetryProps{Errors: jsii.Strings(InputErrorName), MaxAttempts: jsii.Number(0)})
	leg.AddRetry(&awsstepfunctions.RetryProps{
		Errors:      jsii.Strings("States.TaskFailed"),
		MaxAttempts: jsii.Number(3), Interval: awscdk.Duration_Seconds(jsii.Number(30)), BackoffRate: jsii.Number(2),
	})
	loop := awsstepfunctions.NewChoice(this, jsii.String("Done?"), nil).
		When(awsstepfunctions.Condition_BooleanEquals(jsii.String("$.done"), jsii.Bool(true)), awsstepfunctions.NewSucceed(this, jsii.String("Replayed"), nil), nil).
		Otherwise(leg)
	logs := awslogs.NewLogGroup(this, jsii.String("StateMachineLogs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_THREE_MONTHS})
	sm := awsstepfunctions.NewStateMachine(this, jsii.String("StateMachine"), &awsstepfunctions.StateMachineProps{
		DefinitionBody: awsstepfunctions.DefinitionBody_FromChainable(leg.Next(loop)),
		Comment:        jsii.String("eventlake replay: runs replay legs until the whole range is replayed"),
		TracingEnabled: jsii.Bool(true),
		Logs:           &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL, IncludeExecutionData: jsii.Bool(true)},
	})
	deps.DropRole(sm, sm.Role())
	cdknag.NagSuppressions_AddResourceSuppressions(sm.Role(), &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Step Functions invokes the replay function's versions (<function ARN>:*); its CloudWatch Logs delivery and X-Ray actions support no resource-level permissions."),
		AppliesTo: &[]interface{}{
			jsii.String("Resource::*"),
			&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<.+Function[0-9A-F]{8}\\.Arn>:\\*$/")},
		},
	}}, jsii.Bool(true))
	return &deployed{Construct: this, fn: fn, sm: sm}
}

func (d *deployed) Function() awslambda.Function                { return d.fn }
func (d *deployed) StateMachine() awsstepfunctions.StateMachine { return d.sm }

func regexpQuote(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '.', '+', '*', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$', '\\':
			out = append(out, '\\', r)
		case '/':
			out = append(out, '\\', '/')
		default:
			out = append(out, r)
		}
	}
	return string(out)
}
