package datalake

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/internal/buckets"
)

// Firehose's limits for S3 delivery and for Lambda processing.
const (
	MaxBufferingIntervalSeconds = 900
	MinBufferingSizeMiB         = 1
	MaxBufferingSizeMiB         = 128
	MinTransformBufferSizeMiB   = 1
	MaxTransformBufferSizeMiB   = 3
	maxPrefixLength             = 1024
)

// DataLakeProps configures [NewDataLake].
type DataLakeProps struct {
	// Stream is the event stream to archive: an eventstream's Stream() or any imported awskinesis.IStream. Required.
	Stream awskinesis.IStream
	// BucketProps are passed to the S3 L2 Bucket after eventlake's defaults: SSE-S3 encryption (or the KMS settings
	// given here), versioning, TLS only, all public access blocked, server access logs to a dedicated bucket, the
	// RETAIN removal policy and the lifecycle of Transitions. Settings that would weaken those defaults are refused.
	BucketProps *awss3.BucketProps
	// Prefix of every lake object's key, ending in "/". Default "events/".
	Prefix *string
	// ErrorPrefix of the objects Firehose could not transform or deliver, ending in "/", outside Prefix. Default
	// "errors/".
	ErrorPrefix *string
	// BufferingInterval: Firehose writes an object at least this often (0 to 900 s). Default 300 s.
	BufferingInterval awscdk.Duration
	// BufferingSize: or as soon as this much data is buffered (1 to 128 MiB). Default 64 MiB.
	BufferingSize awscdk.Size
	// TransformBufferInterval: Firehose calls the transformation at least this often (0 to 900 s). Default 60 s.
	TransformBufferInterval awscdk.Duration
	// TransformBufferSize: or with this much data (1 to 3 MiB). Default 1 MiB, which keeps the transformation's
	// answer (the lines, base64-encoded) well inside Lambda's 6 MB response limit.
	TransformBufferSize awscdk.Size
	// Transitions move lake objects to colder storage. Default: Standard-IA after 30 days, Glacier Instant Retrieval
	// (still readable by a replay in milliseconds) after 90 days. An empty list keeps everything in Standard.
	// Ignored when BucketProps.LifecycleRules is set.
	Transitions *[]*awss3.Transition
	// TransformFunction overrides settings of the transformation function (memory, timeout, …).
	TransformFunction *awslambda.FunctionOptions
	// EventBridge sends the bucket's events (Object Created, …) to EventBridge, where an observer watches them.
	// Default true. It is set on the bucket itself (no notification custom resource).
	EventBridge *bool
}

// DataLake is the S3 data lake fed from the event stream by Firehose.
type DataLake interface {
	constructs.Construct
	// Bucket is the lake bucket.
	Bucket() awss3.Bucket
	// AccessLogsBucket receives the lake bucket's server access logs; nil when BucketProps named its own.
	AccessLogsBucket() awss3.Bucket
	// DeliveryStream is the Firehose delivery stream that writes the lake. Its Connections() are not usable: an S3
	// destination has no network peers, and the lake removes the CIDR mapping they would need.
	DeliveryStream() awskinesisfirehose.DeliveryStream
	// TransformFunction is the Go Lambda function that turns records into lake lines.
	TransformFunction() awslambda.Function
	// Prefix is the key prefix of lake objects, such as "events/".
	Prefix() *string
	// ErrorPrefix is the key prefix of records Firehose could not transform or deliver.
	ErrorPrefix() *string
	// GrantRead lets grantee list the bucket and read the lake objects (what a replay needs).
	GrantRead(grantee awsiam.IGrantable) awsiam.Grant
}

type dataLake struct {
	constructs.Construct
	bucket, accessLogs  awss3.Bucket
	delivery            awskinesisfirehose.DeliveryStream
	transform           awslambda.Function
	prefix, errorPrefix string
}

// NewDataLake creates the data lake. Invalid props panic at synth time with a message naming the prop, its value and
// the limit.
func NewDataLake(scope constructs.Construct, id *string, props *DataLakeProps) DataLake {
	if props == nil || props.Stream == nil {
		panic(fmt.Sprintf("datalake %s: DataLakeProps.Stream is required (the event stream to archive)", *id))
	}
	where := "datalake " + *id
	prefix := stringOr(props.Prefix, "events/")
	errorPrefix := stringOr(props.ErrorPrefix, "errors/")
	validatePrefix(where, "Prefix", prefix)
	validatePrefix(where, "ErrorPrefix", errorPrefix)
	if strings.HasPrefix(errorPrefix, prefix) || strings.HasPrefix(prefix, errorPrefix) {
		panic(fmt.Sprintf("%s: ErrorPrefix %q and Prefix %q overlap; failed records must stay out of what a replay reads", where, errorPrefix, prefix))
	}
	interval := durationOr(props.BufferingInterval, 300)
	checkSeconds(where, "BufferingInterval", interval, 0, MaxBufferingIntervalSeconds)
	size := sizeOr(props.BufferingSize, 64)
	checkMiB(where, "BufferingSize", size, MinBufferingSizeMiB, MaxBufferingSizeMiB)
	tInterval := durationOr(props.TransformBufferInterval, 60)
	checkSeconds(where, "TransformBufferInterval", tInterval, 0, MaxBufferingIntervalSeconds)
	tSize := sizeOr(props.TransformBufferSize, 1)
	checkMiB(where, "TransformBufferSize", tSize, MinTransformBufferSizeMiB, MaxTransformBufferSizeMiB)

	this := constructs.NewConstruct(scope, id)
	l := &dataLake{Construct: this, prefix: prefix, errorPrefix: errorPrefix}

	bp := awss3.BucketProps{}
	if props.BucketProps != nil {
		bp = *props.BucketProps
	}
	if bp.Encryption == awss3.BucketEncryption_UNENCRYPTED {
		panic(fmt.Sprintf("%s: BucketProps.Encryption is UNENCRYPTED; the lake is always encrypted at rest", where))
	}
	if bp.Encryption == "" && bp.EncryptionKey == nil {
		bp.Encryption = awss3.BucketEncryption_S3_MANAGED
	}
	if bp.Versioned != nil && !*bp.Versioned {
		panic(fmt.Sprintf("%s: BucketProps.Versioned is false; the lake is versioned so a deleted or overwritten object can be recovered", where))
	}
	bp.Versioned = jsii.Bool(true)
	if bp.EnforceSSL != nil && !*bp.EnforceSSL {
		panic(fmt.Sprintf("%s: BucketProps.EnforceSSL is false; the lake accepts TLS requests only", where))
	}
	bp.EnforceSSL = jsii.Bool(true)
	if bp.BlockPublicAccess == nil {
		bp.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
	}
	if bp.RemovalPolicy == "" {
		bp.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if bp.AutoDeleteObjects != nil && *bp.AutoDeleteObjects {
		panic(fmt.Sprintf("%s: BucketProps.AutoDeleteObjects is true; the lake is the system's history and is never emptied by a stack", where))
	}
	if bp.LifecycleRules == nil {
		transitions := props.Transitions
		if transitions == nil {
			transitions = &[]*awss3.Transition{
				{StorageClass: awss3.StorageClass_INFREQUENT_ACCESS(), TransitionAfter: awscdk.Duration_Days(jsii.Number(30))},
				{StorageClass: awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(), TransitionAfter: awscdk.Duration_Days(jsii.Number(90))},
			}
		}
		rule := &awss3.LifecycleRule{
			Id:                                  jsii.String("Lake"),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(90)),
		}
		if len(*transitions) > 0 {
			rule.Transitions = transitions
		}
		bp.LifecycleRules = &[]*awss3.LifecycleRule{rule}
	}
	// Access logs go to a bucket of the lake's own unless the props name one. LogAccess grants the logging service
	// with a bucket policy whatever the app's feature flags; a bucket of the caller's keeps the CDK's own behaviour.
	logPrefix := "lake/"
	if bp.ServerAccessLogsBucket == nil {
		l.accessLogs = buckets.AccessLogs(this, "AccessLogs", "the lake bucket's")
		if bp.ServerAccessLogsPrefix != nil {
			logPrefix = *bp.ServerAccessLogsPrefix
		}
		bp.ServerAccessLogsPrefix = nil
	}
	l.bucket = awss3.NewBucket(this, jsii.String("Bucket"), &bp)
	if l.accessLogs != nil {
		buckets.LogAccess(l.bucket, l.accessLogs, logPrefix)
	}
	if props.EventBridge == nil || *props.EventBridge {
		l.bucket.Node().DefaultChild().(awss3.CfnBucket).AddPropertyOverride(
			jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), true)
	}

	l.transform = golambda.NewFunction(this, jsii.String("Transform"), &golambda.FunctionProps{
		Package: golambda.Handler("laketransform"),
		Options: withDescription(props.TransformFunction, "Turns event stream records into data lake lines"),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(l.transform, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("Serverless-LambdaDLQ"),
		Reason: jsii.String("Firehose invokes the transformation synchronously and retries it; records it cannot transform go to the error prefix. A DLQ applies to asynchronous invocations only."),
	}}, jsii.Bool(false))

	// Firehose's S3 destination grants its role read-write on the bucket, deletes included; Firehose never deletes,
	// and the lake is the system's history, so the bucket policy denies this role every delete.
	writer := awsiam.NewRole(this, jsii.String("DeliveryRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("firehose.amazonaws.com"), nil),
		Description: jsii.String("Firehose writes the data lake"),
	})
	l.bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyDeletesByTheLakeWriter"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(writer.RoleArn())},
		Actions:    jsii.Strings("s3:DeleteObject", "s3:DeleteObjectVersion"),
		Resources:  jsii.Strings(*l.bucket.ArnForObjects(jsii.String("*"))),
	}))
	logs := awslogs.NewLogGroup(this, jsii.String("DeliveryLogs"), &awslogs.LogGroupProps{Retention: awslogs.RetentionDays_THREE_MONTHS})
	timePath := "!{timestamp:yyyy/MM/dd/HH}/"
	l.delivery = awskinesisfirehose.NewDeliveryStream(this, jsii.String("DeliveryStream"), &awskinesisfirehose.DeliveryStreamProps{
		Source: awskinesisfirehose.NewKinesisStreamSource(props.Stream),
		Destination: awskinesisfirehose.NewS3Bucket(l.bucket, &awskinesisfirehose.S3BucketProps{
			DataOutputPrefix:  jsii.String(prefix + timePath),
			ErrorOutputPrefix: jsii.String(errorPrefix + "!{firehose:error-output-type}/" + timePath),
			Compression:       awskinesisfirehose.Compression_GZIP(),
			BufferingInterval: interval,
			BufferingSize:     size,
			EncryptionKey:     bp.EncryptionKey,
			LoggingConfig:     awskinesisfirehose.NewEnableLogging(logs),
			Processors: &[]awskinesisfirehose.IDataProcessor{
				awskinesisfirehose.NewLambdaFunctionProcessor(l.transform, &awskinesisfirehose.DataProcessorProps{
					BufferInterval: tInterval,
					BufferSize:     tSize,
					Retries:        jsii.Number(3),
				}),
			},
			Role: writer,
		}),
	})
	// The L2 always adds a mapping of Firehose's CIDR blocks per region for Connections(), which only VPC
	// destinations (Redshift, Splunk, HTTP) use. Unused here, it draws W7001 from cfn-lint and CloudFormation.
	awscdk.Stack_Of(this).Node().TryRemoveChild(jsii.String("@aws-cdk--aws-kinesisfirehose.CidrBlocks"))
	eventstream.RegisterSharedReader(props.Stream, l.delivery)
	cdknag.NagSuppressions_AddResourceSuppressions(l.delivery, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-KDF1"),
		Reason: jsii.String("Firehose does not accept server-side encryption with a Kinesis stream source; the records are encrypted in the source stream and in the lake bucket."),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(writer, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Granted by the Firehose S3 destination: object actions under generated time-partitioned keys of the lake bucket only (<bucket ARN>/*; deletes are denied by the bucket policy), and invocation of the transformation function's versions (<function ARN>:*)."),
		AppliesTo: &[]interface{}{
			&cdknag.RegexAppliesTo{Regex: jsii.String("/^Action::s3:[A-Za-z]+\\*$/")},
			&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<[A-Za-z0-9]*Bucket[0-9A-F]{8}\\.Arn>\\/\\*$/")},
			&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<[A-Za-z0-9]*Transform[0-9A-F]{8}\\.Arn>:\\*$/")},
		},
	}}, jsii.Bool(true))
	return l
}

func (l *dataLake) Bucket() awss3.Bucket                              { return l.bucket }
func (l *dataLake) AccessLogsBucket() awss3.Bucket                    { return l.accessLogs }
func (l *dataLake) DeliveryStream() awskinesisfirehose.DeliveryStream { return l.delivery }
func (l *dataLake) TransformFunction() awslambda.Function             { return l.transform }
func (l *dataLake) Prefix() *string                                   { return jsii.String(l.prefix) }
func (l *dataLake) ErrorPrefix() *string                              { return jsii.String(l.errorPrefix) }
func (l *dataLake) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return l.bucket.GrantRead(grantee, jsii.String(l.prefix+"*"))
}

func withDescription(o *awslambda.FunctionOptions, d string) *awslambda.FunctionOptions {
	opts := awslambda.FunctionOptions{}
	if o != nil {
		opts = *o
	}
	if opts.Description == nil {
		opts.Description = jsii.String(d)
	}
	return &opts
}

func stringOr(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

func durationOr(d awscdk.Duration, seconds float64) awscdk.Duration {
	if d == nil {
		return awscdk.Duration_Seconds(jsii.Number(seconds))
	}
	return d
}

func sizeOr(s awscdk.Size, mib float64) awscdk.Size {
	if s == nil {
		return awscdk.Size_Mebibytes(jsii.Number(mib))
	}
	return s
}

func validatePrefix(where, field, p string) {
	switch {
	case p == "" || !strings.HasSuffix(p, "/"):
		panic(fmt.Sprintf("%s: %s %q must be a non-empty key prefix ending in '/'", where, field, p))
	case strings.HasPrefix(p, "/"):
		panic(fmt.Sprintf("%s: %s %q must not start with '/'", where, field, p))
	case strings.Contains(p, "!{"):
		panic(fmt.Sprintf("%s: %s %q must not hold Firehose expressions; the lake adds the YYYY/MM/DD/HH/ path itself", where, field, p))
	case len(p) > maxPrefixLength:
		panic(fmt.Sprintf("%s: %s is %d characters; the limit is %d", where, field, len(p), maxPrefixLength))
	}
}

func checkSeconds(where, field string, d awscdk.Duration, min, max float64) {
	if *awscdk.Token_IsUnresolved(d) {
		return
	}
	if s := *d.ToSeconds(nil); s < min || s > max {
		panic(fmt.Sprintf("%s: %s is %s; Firehose allows %v to %v seconds", where, field, *d.ToHumanString(), min, max))
	}
}

func checkMiB(where, field string, s awscdk.Size, min, max float64) {
	if *awscdk.Token_IsUnresolved(s) {
		return
	}
	mib := *s.ToKibibytes(nil) / 1024
	if mib < min || mib > max || mib != float64(int(mib)) {
		panic(fmt.Sprintf("%s: %s is %v MiB; Firehose allows whole MiB from %v to %v", where, field, mib, min, max))
	}
}
