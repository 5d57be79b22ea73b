// Package buckets makes the S3 buckets eventlake's constructs share a shape for.
package buckets

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AccessLogs makes a bucket for another bucket's server access logs: encrypted, TLS only, public access blocked,
// versioned, retained, logs kept a year. whose names the logged bucket in the nag suppression, such as "the lake
// bucket's". Connect the logged bucket with LogAccess, not with BucketProps.ServerAccessLogsBucket.
func AccessLogs(scope constructs.Construct, id, whose string) awss3.Bucket {
	b := awss3.NewBucket(scope, jsii.String(id), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_PREFERRED,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(b, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-S1"),
		Reason: jsii.String("This bucket receives " + whose + " server access logs; logging it into itself would loop."),
	}}, jsii.Bool(false))
	return b
}

// LogAccess sends logged's server access logs into logs under prefix (none when empty), and lets the S3 logging
// service write them there with a bucket policy limited to logged and its account.
//
// It does what BucketProps.ServerAccessLogsBucket does under the CDK feature flag
// @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy, without depending on that flag: an app that does not set it would
// otherwise get the legacy LogDeliveryWrite ACL, which cfn-lint warns about (W3045) and AWS advises against. The
// template is the same as the flag's.
func LogAccess(logged, logs awss3.Bucket, prefix string) {
	cfg := &awss3.CfnBucket_LoggingConfigurationProperty{DestinationBucketName: logs.BucketName()}
	if prefix != "" {
		cfg.LogFilePrefix = jsii.String(prefix)
	}
	logged.Node().DefaultChild().(awss3.CfnBucket).SetLoggingConfiguration(cfg)
	logs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  jsii.Strings(*logs.ArnForObjects(jsii.String(prefix + "*"))),
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": logged.BucketArn()},
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(logged).Account()},
		},
	}))
}
