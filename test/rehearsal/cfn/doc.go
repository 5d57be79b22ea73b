// Package cfn reads a synthesized CDK cloud assembly (a cdk.out directory) as plain JSON and materializes its data
// resources in moto server, resolving CloudFormation's intrinsic functions the way CloudFormation does. It is the
// first half of the deploy rehearsal: what the templates describe is created for real in an AWS-API emulator, so the
// functions of the blueprint can then run against it with their own environment and role.
//
// [Load] reads manifest.json, every stack template and the asset manifests: stacks in deployment order, resources,
// outputs and exports, and for each AWS::Lambda::Function a [Function] that names the asset directory holding its
// bootstrap.
//
// A [Resolver] evaluates Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue, Fn::If (with
// the template's Conditions), Fn::FindInMap, Fn::Base64, Fn::GetAZs and the pseudo parameters against the physical
// ids and attributes recorded for the resources created so far. A reference it cannot resolve is a [*RefError] that
// names the stack, the resource holding the reference, the referenced resource and the attribute.
//
// [Materialize] creates, stack after stack in the manifest's dependency order and resource after resource in the
// order of their references and DependsOn, every data resource of the assembly: Kinesis streams and stream
// consumers, S3 buckets (with their EventBridge notifications and policies), DynamoDB tables, SQS queues and their
// policies, SNS topics, subscriptions and policies, EventBridge buses and rules with their targets, Step Functions
// state machines, IAM roles with their inline and managed policies, KMS keys and aliases. Physical names look like
// CloudFormation's, <stack>-<logicalId>-<SUFFIX>, with a suffix derived from the run id, the stack and the logical id.
// The resources it does not create (Lambda functions, event source mappings, permissions, log groups, alarms,
// Firehose delivery streams, custom resources, CDK metadata) are recorded with a CloudFormation-like physical id and
// ARN, so references to them resolve, and listed in [Deployment.Skipped] with the reason. A template property it does
// not apply, or a setting moto refuses, is listed in [Deployment.Gaps] instead of failing the run. One such gap is
// deliberate: moto enforces a bucket policy's statements for everyone while ignoring their conditions, so CDK's
// "deny unless aws:SecureTransport" statement would deny every request over moto's plain HTTP; such statements are
// left out of the applied policy and reported.
//
// The [Deployment] answers what the functions and event-source drivers need: physical ids and attributes
// ([Deployment.Ref], [Deployment.Attr]), each function's resolved environment ([Deployment.Environment]), each role's
// policies ([Deployment.Policies]) and the resolved properties of any resource ([Deployment.Properties]).
//
// The package imports no CDK code: it reads what `cdk synth` wrote.
package cfn
