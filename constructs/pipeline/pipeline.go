// Package pipeline starts processing when a data set is ready, without a scheduler (docs/design.md, part 8; runtime in
// package pipeline): DataSetReady events start a Step Functions state machine — one execution per data set and
// completion, so a duplicate starts nothing — and people get one SNS message when each run ends. The seed's engine,
// AWS Data Pipeline, is an optional adapter for those who still run one.
package pipeline

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/contract"
)

// PipelineProps configures [NewPipeline].
type PipelineProps struct {
	// StateMachine processes each ready data set; its input is the DataSetReady detail. Required.
	StateMachine awsstepfunctions.IStateMachine
	// EventBus carries the DataSetReady events (an observer's EventBus()). Default: the default bus.
	EventBus awsevents.IEventBus
	// Topic receives one message per run when it ends, published by EventBridge. Default: a new topic encrypted with a
	// key of its own that EventBridge may use. A topic of yours that is encrypted needs a customer-managed key whose
	// policy lets events.amazonaws.com use kms:GenerateDataKey* and kms:Decrypt: EventBridge cannot publish to a topic
	// encrypted with the AWS-managed aws/sns key.
	Topic awssns.ITopic
	// OnEachObject, when set, also starts the state machine for each object created under these buckets and
	// prefixes (the buckets must send their events to EventBridge), instead of waiting for a complete data set.
	OnEachObject []*ObjectSource
	// DataPipelineTemplateID, when set, also launches a clone of this finished AWS Data Pipeline for each ready data
	// set (the seed's engine; Data Pipeline is closed to new customers).
	DataPipelineTemplateID *string
	// DataPipelineRoles are the roles the template's pipeline and resources run as; the adapter passes them.
	DataPipelineRoles []awsiam.IRole
}

// ObjectSource names a bucket and prefix whose new objects start the pipeline one by one.
type ObjectSource struct {
	// Bucket sends its events to EventBridge.
	Bucket awss3.IBucket
	// Prefix limits the objects to keys under it.
	Prefix *string
}

// Pipeline is the deployed trigger.
type Pipeline interface {
	constructs.Construct
	// Starter starts the state machine.
	Starter() awslambda.Function
	// Topic receives the run-ended messages.
	Topic() awssns.ITopic
}

type deployed struct {
	constructs.Construct
	starter awslambda.Function
	topic   awssns.ITopic
}

// NewPipeline creates the trigger.
func NewPipeline(scope constructs.Construct, id *string, props *PipelineProps) Pipeline {
	if props == nil || props.StateMachine == nil {
		panic("pipeline " + *id + ": PipelineProps.StateMachine is required")
	}
	this := constructs.NewConstruct(scope, id)
	d := &deployed{Construct: this, topic: props.Topic}
	bus := props.EventBus
	if bus == nil {
		bus = awsevents.EventBus_FromEventBusName(this, jsii.String("DefaultBus"), jsii.String("default"))
	}
	// EventBridge publishes the run-ended messages. It cannot publish to a topic encrypted with the AWS-managed
	// aws/sns key, whose key policy admits no service: the topic gets a key of its own, and the rule's SNS target lets
	// EventBridge use it (kms:Decrypt and kms:GenerateDataKey* in the key policy).
	if d.topic == nil {
		key := awskms.NewKey(this, jsii.String("RunEndedKey"), &awskms.KeyProps{
			Description:       jsii.String("Encrypts the pipeline's run-ended topic; EventBridge may use it to publish"),
			EnableKeyRotation: jsii.Bool(true),
		})
		d.topic = awssns.NewTopic(this, jsii.String("RunEnded"), &awssns.TopicProps{
			DisplayName: jsii.String("Pipeline runs ended"), EnforceSSL: jsii.Bool(true), MasterKey: key,
		})
	}
	dlq := awssqs.NewQueue(this, jsii.String("UndeliveredEvents"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is the dead-letter queue of the pipeline's EventBridge targets.")},
		{Id: jsii.String("Serverless-SQSRedrivePolicy"), Reason: jsii.String("This queue is itself a dead-letter queue: operators read it; it has nowhere further to redrive to.")},
	}, jsii.Bool(false))

	d.starter = golambda.NewFunction(this, jsii.String("Starter"), &golambda.FunctionProps{Package: golambda.Handler("pipelinestarter"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Starts the pipeline for each ready data set")}})
	setEnv(d.starter, contract.PipelineStarter{StateMachineARN: *props.StateMachine.StateMachineArn()}.Env())
	props.StateMachine.GrantStartExecution(d.starter)
	suppressAsync(d.starter)
	ready := &awsevents.EventPattern{Source: jsii.Strings(contract.ObserverEventSource), DetailType: jsii.Strings(contract.DataSetReady)}
	targets := []awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(d.starter, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: dlq, RetryAttempts: jsii.Number(10), MaxEventAge: awscdk.Duration_Hours(jsii.Number(24)),
	})}

	if props.DataPipelineTemplateID != nil {
		adapter := golambda.NewFunction(this, jsii.String("DataPipeline"), &golambda.FunctionProps{Package: golambda.Handler("datapipeline"),
			Options: &awslambda.FunctionOptions{Description: jsii.String("Clones and activates the Data Pipeline template for each ready data set"),
				Timeout: awscdk.Duration_Minutes(jsii.Number(5))}})
		setEnv(adapter, contract.DataPipeline{TemplateID: *props.DataPipelineTemplateID, ClonePrefix: contract.DefaultClonePrefix}.Env())
		adapter.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("datapipeline:ListPipelines", "datapipeline:DescribePipelines", "datapipeline:GetPipelineDefinition",
				"datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline", "datapipeline:DeletePipeline"),
			Resources: jsii.Strings("*"),
		}))
		for _, r := range props.DataPipelineRoles {
			r.GrantPassRole(adapter.GrantPrincipal())
		}
		cdknag.NagSuppressions_AddResourceSuppressions(adapter.Role(), &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("ListPipelines and CreatePipeline take no resource, and clones get ids only when created, so the Data Pipeline actions apply to *; active tracing adds X-Ray's two actions."),
			AppliesTo: &[]interface{}{jsii.String("Resource::*")},
		}}, jsii.Bool(true))
		suppressAsync(adapter)
		targets = append(targets, awseventstargets.NewLambdaFunction(adapter, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: dlq, RetryAttempts: jsii.Number(10), MaxEventAge: awscdk.Duration_Hours(jsii.Number(24)),
		}))
	}
	awsevents.NewRule(this, jsii.String("DataSetReady"), &awsevents.RuleProps{
		EventBus: bus, Description: jsii.String("DataSetReady: start processing"), EventPattern: ready, Targets: &targets,
	})

	for i, src := range props.OnEachObject {
		prefix := ""
		if src.Prefix != nil {
			prefix = *src.Prefix
		}
		awsevents.NewRule(this, jsii.String(fmt.Sprint("ObjectCreated", i)), &awsevents.RuleProps{
			Description: jsii.String("Each new object: start processing"),
			EventPattern: &awsevents.EventPattern{Source: jsii.Strings("aws.s3"), DetailType: jsii.Strings("Object Created"),
				Detail: &map[string]interface{}{"bucket": map[string]interface{}{"name": []*string{src.Bucket.BucketName()}},
					"object": map[string]interface{}{"key": []interface{}{map[string]string{"prefix": prefix}}}}},
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(d.starter, &awseventstargets.LambdaFunctionProps{
				DeadLetterQueue: dlq, RetryAttempts: jsii.Number(10), MaxEventAge: awscdk.Duration_Hours(jsii.Number(24)),
			})},
		})
	}

	// One message per run, when it ends, saying what ran, on what, and how it ended.
	msg := awsevents.RuleTargetInput_FromText(jsii.String(
		"Pipeline run " + *awsevents.EventField_FromPath(jsii.String("$.detail.name")) +
			" of " + *awsevents.EventField_FromPath(jsii.String("$.detail.stateMachineArn")) +
			" ended " + *awsevents.EventField_FromPath(jsii.String("$.detail.status")) +
			". Data set and input: " + *awsevents.EventField_FromPath(jsii.String("$.detail.input"))))
	awsevents.NewRule(this, jsii.String("RunEndedRule"), &awsevents.RuleProps{
		Description: jsii.String("A pipeline run ended: tell people"),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.states"), DetailType: jsii.Strings("Step Functions Execution Status Change"),
			Detail: &map[string]interface{}{
				"stateMachineArn": []*string{props.StateMachine.StateMachineArn()},
				"status":          []string{"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"},
			},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSnsTopic(d.topic, &awseventstargets.SnsTopicProps{Message: msg, DeadLetterQueue: dlq})},
	})
	return d
}

// setEnv sets a handler's variables, as its configuration's Env returns them.
func setEnv(fn awslambda.Function, env map[string]string) {
	for k, v := range env {
		fn.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
}

func suppressAsync(fn awslambda.Function) {
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("Serverless-LambdaDLQ"), Reason: jsii.String("Invoked by an EventBridge rule whose target has its own dead-letter queue and retry policy, which is where undeliverable events go."),
	}}, jsii.Bool(false))
}

func (d *deployed) Starter() awslambda.Function { return d.starter }
func (d *deployed) Topic() awssns.ITopic        { return d.topic }
