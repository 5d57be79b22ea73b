package subscription

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/internal/buckets"
)

// mapperTimeoutSeconds is the mapper's timeout: time to retry throttling and wait for a mapping to settle. The custom
// resource's service timeout is a minute more, so a lost answer fails the stack in minutes, not in an hour.
const mapperTimeoutSeconds = 600

// mapperFunction returns the stack's one mapper function, creating it on first use.
func mapperFunction(stack awscdk.Stack) awslambda.Function {
	const id = "EventlakeMapper"
	if existing, ok := stack.Node().TryFindChild(jsii.String(id)).(constructs.Construct); ok && existing != nil {
		return existing.Node().FindChild(jsii.String("Function")).(awslambda.Function)
	}
	scope := constructs.NewConstruct(stack, jsii.String(id))
	logs := awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_THREE_MONTHS})
	role := awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Manages the event source mappings of eventlake subscriptions"),
	})
	logs.GrantWrite(role)
	// CreateEventSourceMapping and ListEventSourceMappings have no resource-level permissions.
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings"),
		Resources: jsii.Strings("*"),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"),
		Resources: jsii.Strings(*stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("lambda"), Resource: jsii.String("event-source-mapping"), ResourceName: jsii.String("*"),
			ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})),
	}))
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("lambda:CreateEventSourceMapping and lambda:ListEventSourceMappings support no resource-level permissions, nor do X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing); " +
			"Get/Update/DeleteEventSourceMapping are limited to this account's and region's event source mappings, whose UUIDs Lambda assigns at creation."),
		AppliesTo: &[]interface{}{
			jsii.String("Resource::*"),
			jsii.String("Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:event-source-mapping:*"),
		},
	}}, jsii.Bool(true))

	// CloudFormation invokes custom resources asynchronously: an invocation that fails outright lands here.
	dlq := awssqs.NewQueue(scope, jsii.String("DeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("Serverless-SQSRedrivePolicy"), Reason: jsii.String("This queue is the mapper's dead-letter queue, the last stop of invocations that failed outright; operators read it, nothing consumes it, so it has nowhere further to redrive to.")},
		{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is itself the mapper function's dead-letter queue.")},
	}, jsii.Bool(false))
	return golambda.NewFunction(scope, jsii.String("Function"), &golambda.FunctionProps{
		Package: golambda.Handler("mapper"),
		Options: &awslambda.FunctionOptions{
			Description:     jsii.String("Custom::EventlakeSubscription: event source mappings with retries"),
			Timeout:         awscdk.Duration_Seconds(jsii.Number(mapperTimeoutSeconds)),
			Role:            role,
			LogGroup:        logs,
			DeadLetterQueue: dlq,
		},
	})
}

// failedBatchesBucket returns the stack's bucket for failed batches, creating it on first use.
func failedBatchesBucket(stack awscdk.Stack) awss3.IBucket {
	const id = "EventlakeFailedBatches"
	if existing, ok := stack.Node().TryFindChild(jsii.String(id)).(awss3.Bucket); ok && existing != nil {
		return existing
	}
	logs := buckets.AccessLogs(stack, "EventlakeFailedBatchesAccessLogs", "the failed-batches bucket's")
	b := awss3.NewBucket(stack, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			// Long enough to repair a service; a failed batch holds its records, so it can be replayed.
			Expiration:                  awscdk.Duration_Days(jsii.Number(90)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	buckets.LogAccess(b, logs, "")
	return b
}
