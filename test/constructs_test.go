package test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/constructs/golambda"
)

func newStack() awscdk.Stack {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	return awscdk.NewStack(app, jsii.String("Stack"), nil)
}

// mustPanic runs f and checks that it panics with a message holding every one of want.
func mustPanic(t *testing.T, f func(), want ...string) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Errorf("no panic; want one naming %q", want)
			return
		}
		msg, _ := r.(string)
		if err, ok := r.(error); ok {
			msg = err.Error()
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q does not say %q", msg, w)
			}
		}
	}()
	f()
}

func TestEventStreamDefaults(t *testing.T) {
	stack := newStack()
	eventstream.NewEventStream(stack, jsii.String("Events"), nil)
	tmpl := assertions.Template_FromStack(stack, nil)

	tmpl.HasResource(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"Properties": map[string]any{
			"StreamModeDetails":    map[string]any{"StreamMode": "ON_DEMAND"},
			"RetentionPeriodHours": 24,
			"StreamEncryption":     assertions.Match_AnyValue(),
			"ShardCount":           assertions.Match_Absent(),
		},
		"DeletionPolicy":      "Retain",
		"UpdateReplacePolicy": "Retain",
	})
	// Every alarm's metric carries the StreamName dimension, or it would never fire.
	for _, metric := range []string{"GetRecords.IteratorAgeMilliseconds", "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded"} {
		tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"MetricName": metric, "Namespace": "AWS/Kinesis",
			"Dimensions": []any{map[string]any{"Name": "StreamName", "Value": map[string]any{"Ref": assertions.Match_AnyValue()}}},
		})
	}
	tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
		"MetricName": "GetRecords.IteratorAgeMilliseconds", "Statistic": "Maximum", "Threshold": 300000,
	})
}

func TestEventStreamProvisionedWithKeyAndLongRetention(t *testing.T) {
	stack := newStack()
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	s := eventstream.NewEventStream(stack, jsii.String("Events"), &eventstream.EventStreamProps{StreamProps: &awskinesis.StreamProps{
		StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: jsii.Number(4),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(365)), EncryptionKey: key,
	}})
	if *s.Retention().ToHours(nil) != 8760 {
		t.Errorf("Retention() = %v hours", *s.Retention().ToHours(nil))
	}
	assertions.Template_FromStack(stack, nil).HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
		"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}, "ShardCount": 4, "RetentionPeriodHours": 8760,
		"StreamEncryption": map[string]any{"EncryptionType": "KMS", "KeyId": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Key")), "Arn"}}},
	})
}

func TestEventStreamValidation(t *testing.T) {
	cases := map[string]struct {
		props *awskinesis.StreamProps
		want  []string
	}{
		"retention too short": {&awskinesis.StreamProps{RetentionPeriod: awscdk.Duration_Hours(jsii.Number(12))}, []string{"RetentionPeriod", "12", "24 to 8760"}},
		"retention too long":  {&awskinesis.StreamProps{RetentionPeriod: awscdk.Duration_Days(jsii.Number(366))}, []string{"RetentionPeriod", "8784", "24 to 8760"}},
		"retention not hours": {&awskinesis.StreamProps{RetentionPeriod: awscdk.Duration_Minutes(jsii.Number(1510))}, []string{"RetentionPeriod", "whole number of hours"}},
		"shards on demand":    {&awskinesis.StreamProps{StreamMode: awskinesis.StreamMode_ON_DEMAND, ShardCount: jsii.Number(2)}, []string{"ShardCount", "2", "ON_DEMAND"}},
		"shards, no mode":     {&awskinesis.StreamProps{ShardCount: jsii.Number(2)}, []string{"ShardCount", "PROVISIONED"}},
		"zero shards":         {&awskinesis.StreamProps{StreamMode: awskinesis.StreamMode_PROVISIONED, ShardCount: jsii.Number(0)}, []string{"ShardCount", "at least 1"}},
		"unencrypted":         {&awskinesis.StreamProps{Encryption: awskinesis.StreamEncryption_UNENCRYPTED}, []string{"Encryption", "UNENCRYPTED"}},
		"bad name":            {&awskinesis.StreamProps{StreamName: jsii.String("my stream!")}, []string{"StreamName", "my stream!", "128"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			mustPanic(t, func() {
				eventstream.NewEventStream(newStack(), jsii.String("Events"), &eventstream.EventStreamProps{StreamProps: c.props})
			}, c.want...)
		})
	}
}

func TestDataLakeDefaults(t *testing.T) {
	stack := newStack()
	s := eventstream.NewEventStream(stack, jsii.String("Events"), nil)
	l := datalake.NewDataLake(stack, jsii.String("Lake"), &datalake.DataLakeProps{Stream: s.Stream()})
	tmpl := assertions.Template_FromStack(stack, nil)

	tmpl.HasResourceProperties(jsii.String("AWS::KinesisFirehose::DeliveryStream"), map[string]any{
		"DeliveryStreamType": "KinesisStreamAsSource",
		"ExtendedS3DestinationConfiguration": assertions.Match_ObjectLike(&map[string]any{
			"CompressionFormat": "GZIP",
			"Prefix":            "events/!{timestamp:yyyy/MM/dd/HH}/",
			"ErrorOutputPrefix": "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/",
			"BufferingHints":    map[string]any{"IntervalInSeconds": 300, "SizeInMBs": 64},
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []any{map[string]any{
				"Type": "Lambda", "Parameters": assertions.Match_ArrayWith(&[]any{
					map[string]any{"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
				}),
			}}},
		}),
	})
	// The lake bucket: encrypted, versioned, public access blocked, logged, kept, with a lifecycle to colder storage.
	tmpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
		"Properties": map[string]any{
			"BucketEncryption":               map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"LoggingConfiguration":           assertions.Match_ObjectLike(&map[string]any{"LogFilePrefix": "lake/"}),
			"LifecycleConfiguration": map[string]any{"Rules": []any{assertions.Match_ObjectLike(&map[string]any{
				"Transitions": []any{
					map[string]any{"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
					map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
				},
			})}},
		},
		"DeletionPolicy": "Retain",
	})
	// TLS only, and the Firehose writer may never delete from the lake.
	tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Action": "s3:*", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			assertions.Match_ObjectLike(&map[string]any{"Sid": "DenyDeletesByTheLakeWriter", "Effect": "Deny", "Action": []any{"s3:DeleteObject", "s3:DeleteObjectVersion"}}),
		})},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"Runtime": "provided.al2023", "Architectures": []any{"arm64"}})

	// Firehose counts as a shared-throughput reader of the stream.
	readers := eventstream.SharedReaders(s.Stream())
	if len(readers) != 1 || readers[0] != *l.DeliveryStream().Node().Path() {
		t.Errorf("SharedReaders = %v, want the delivery stream %s", readers, *l.DeliveryStream().Node().Path())
	}
	if *l.Prefix() != "events/" || *l.ErrorPrefix() != "errors/" {
		t.Errorf("prefixes %s %s", *l.Prefix(), *l.ErrorPrefix())
	}
}

func TestDataLakeReadsAnImportedStreamFromAnotherStack(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	team := awscdk.NewStack(app, jsii.String("Team"), nil)
	key := awskms.Key_FromKeyArn(team, jsii.String("StreamKey"), jsii.String("arn:aws:kms:us-east-1:111111111111:key/abcd"))
	stream := awskinesis.Stream_FromStreamAttributes(team, jsii.String("Events"), &awskinesis.StreamAttributes{
		StreamArn: jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"), EncryptionKey: key,
	})
	datalake.NewDataLake(team, jsii.String("Lake"), &datalake.DataLakeProps{Stream: stream, Prefix: jsii.String("team/"), ErrorPrefix: jsii.String("team-errors/")})
	tmpl := assertions.Template_FromStack(team, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::KinesisFirehose::DeliveryStream"), map[string]any{
		"KinesisStreamSourceConfiguration": assertions.Match_ObjectLike(&map[string]any{"KinesisStreamARN": "arn:aws:kinesis:us-east-1:111111111111:stream/events"}),
	})
	// Reading an imported stream encrypted with a customer key needs decrypt on that key.
	tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
		"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ObjectLike(&map[string]any{"Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:111111111111:key/abcd"}),
		})},
	})
	if got := eventstream.SharedReaders(stream); len(got) != 1 {
		t.Errorf("SharedReaders of the imported stream = %v, want the lake's delivery stream", got)
	}
}

func TestDataLakeValidation(t *testing.T) {
	cases := map[string]struct {
		props func(awskinesis.IStream) *datalake.DataLakeProps
		want  []string
	}{
		"no stream": {func(awskinesis.IStream) *datalake.DataLakeProps { return &datalake.DataLakeProps{} }, []string{"Stream", "required"}},
		"prefix without slash": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, Prefix: jsii.String("events")}
		}, []string{"Prefix", `"events"`, "ending in '/'"}},
		"error prefix inside prefix": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, ErrorPrefix: jsii.String("events/errors/")}
		}, []string{"ErrorPrefix", "events/errors/", "overlap"}},
		"expression in prefix": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, Prefix: jsii.String("e/!{timestamp:yyyy}/")}
		}, []string{"Prefix", "expressions"}},
		"buffering interval": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, BufferingInterval: awscdk.Duration_Minutes(jsii.Number(20))}
		}, []string{"BufferingInterval", "20 minutes", "0 to 900 seconds"}},
		"buffering size": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, BufferingSize: awscdk.Size_Mebibytes(jsii.Number(256))}
		}, []string{"BufferingSize", "256", "1 to 128"}},
		"transform buffer": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, TransformBufferSize: awscdk.Size_Mebibytes(jsii.Number(4))}
		}, []string{"TransformBufferSize", "4", "1 to 3"}},
		"unencrypted bucket": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, BucketProps: &awss3.BucketProps{Encryption: awss3.BucketEncryption_UNENCRYPTED}}
		}, []string{"BucketProps.Encryption", "UNENCRYPTED"}},
		"unversioned bucket": {func(s awskinesis.IStream) *datalake.DataLakeProps {
			return &datalake.DataLakeProps{Stream: s, BucketProps: &awss3.BucketProps{Versioned: jsii.Bool(false)}}
		}, []string{"BucketProps.Versioned", "false"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := newStack()
			s := awskinesis.NewStream(stack, jsii.String("S"), nil)
			mustPanic(t, func() { datalake.NewDataLake(stack, jsii.String("Lake"), c.props(s)) }, c.want...)
		})
	}
}

func TestSharedReadersCountOnce(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	a := awscdk.NewStack(stack.Node().Scope().(awscdk.App), jsii.String("Other"), nil)
	eventstream.RegisterSharedReader(s, a)
	eventstream.RegisterSharedReader(s, a)
	eventstream.RegisterSharedReader(s, stack)
	if got := eventstream.SharedReaders(s); len(got) != 2 || got[0] != "Other" || got[1] != "Stack" {
		t.Errorf("SharedReaders = %v, want [Other Stack]", got)
	}
}
