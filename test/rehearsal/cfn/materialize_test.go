package cfn

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
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
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/test/moto"
)

// dataTemplate holds one resource of every materialized type, each referring to others, plus the types that are
// only recorded.
const dataTemplate = `{
  "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
  "Resources": {
    "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "test key", "EnableKeyRotation": true,
      "KeyPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
        "Principal": {"AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}}]}}},
    "Alias": {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/rehearsal-test", "TargetKeyId": {"Ref": "Key"}}},
    "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 2, "RetentionPeriodHours": 48,
      "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}}},
    "Consumer": {"Type": "AWS::Kinesis::StreamConsumer", "Properties": {"ConsumerName": "fanout", "StreamARN": {"Fn::GetAtt": ["Stream", "Arn"]}}},
    "DeadLetters": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
    "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 45, "SqsManagedSseEnabled": true,
      "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["DeadLetters", "Arn"]}, "maxReceiveCount": 3},
      "Tags": [{"Key": "team", "Value": "data"}]}},
    "QueuePolicy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Queue"}],
      "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "sns.amazonaws.com"]},
        "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}},
    "NeverQueue": {"Type": "AWS::SQS::Queue", "Condition": "Never"},
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
      "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "tpk", "AttributeType": "S"}, {"AttributeName": "tsk", "AttributeType": "N"}],
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
      "GlobalSecondaryIndexes": [{"IndexName": "byTime", "KeySchema": [{"AttributeName": "tpk", "KeyType": "HASH"}, {"AttributeName": "tsk", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["payload"]}}],
      "BillingMode": "PAY_PER_REQUEST",
      "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
      "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": true},
      "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {
      "VersioningConfiguration": {"Status": "Enabled"},
      "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": true}},
      "LifecycleConfiguration": {"Rules": [{"Id": "Old", "Status": "Enabled", "Prefix": "events/", "ExpirationInDays": 30}]}}},
    "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"Bucket": {"Ref": "Bucket"}, "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}]},
      {"Effect": "Deny", "Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}, "Action": "s3:DeleteObject",
        "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}}]}}},
    "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "Things", "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
    "TopicToQueue": {"Type": "AWS::SNS::Subscription", "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "sqs",
      "Endpoint": {"Fn::GetAtt": ["Queue", "Arn"]}, "RawMessageDelivery": true}},
    "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "rehearsal-test-bus"}},
    "BusRule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Ref": "Bus"}, "State": "ENABLED",
      "EventPattern": {"source": ["rehearsal.test"]},
      "Targets": [{"Id": "Q", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}, "RetryPolicy": {"MaximumRetryAttempts": 4}}]}},
    "ObjectCreated": {"Type": "AWS::Events::Rule", "Properties": {"State": "ENABLED",
      "EventPattern": {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": [{"Ref": "Bucket"}]}}},
      "Targets": [{"Id": "Q", "Arn": {"Fn::GetAtt": ["Queue", "Arn"]}}]}},
    "Role": {"Type": "AWS::IAM::Role", "Properties": {
      "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}]},
      "Policies": [{"PolicyName": "own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}]}}]}},
    "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "tablewrite", "Roles": [{"Ref": "Role"}],
      "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": {"Fn::GetAtt": ["Table", "Arn"]}},
        {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": {"Fn::GetAtt": ["Logs", "Arn"]}}]}}},
    "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
      "Definition": {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "${table}", "End": true}}},
      "DefinitionSubstitutions": {"table": {"Ref": "Table"}}, "TracingConfiguration": {"Enabled": true}}},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
    "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Policy"], "Properties": {
      "Code": {"S3Bucket": "assets", "S3Key": "abcd.zip"}, "Handler": "bootstrap", "Runtime": "provided.al2023",
      "Role": {"Fn::GetAtt": ["Role", "Arn"]},
      "Environment": {"Variables": {
        "TABLE": {"Ref": "Table"}, "QUEUE": {"Ref": "Queue"}, "STREAM": {"Fn::GetAtt": ["Stream", "Arn"]},
        "BUS": {"Fn::GetAtt": ["Bus", "Arn"]}, "LOGS": {"Ref": "Logs"}, "SIZE": 10,
        "NOTHING": {"Fn::If": ["Never", "x", {"Ref": "AWS::NoValue"}]}}}}},
    "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"FunctionName": {"Ref": "Fn"},
      "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]}, "BatchSize": 10, "StartingPosition": "TRIM_HORIZON"}}
  },
  "Outputs": {
    "StreamArn": {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}, "Export": {"Name": "Data:StreamArn"}},
    "FnArn": {"Value": {"Fn::GetAtt": ["Fn", "Arn"]}, "Export": {"Name": "Data:FnArn"}}
  }
}`

// appTemplate imports from the data stack and holds a custom resource and a type Materialize does not know.
const appTemplate = `{
  "Resources": {
    "Subscription": {"Type": "Custom::Subscription", "Properties": {"ServiceToken": {"Fn::ImportValue": "Data:FnArn"},
      "EventSourceArn": {"Fn::ImportValue": "Data:StreamArn"}, "BatchSize": "100"}},
    "Mystery": {"Type": "AWS::Foo::Bar", "Properties": {"X": 1}},
    "AppFn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}, "Role": "arn:aws:iam::123456789012:role/x",
      "Environment": {"Variables": {"STREAM": {"Fn::ImportValue": "Data:StreamArn"}, "SUB": {"Ref": "Subscription"}}}}}
  }
}`

func TestMaterialize(t *testing.T) {
	cfg := moto.Config(t)
	ctx := context.Background()
	a, err := Load(writeAssembly(t,
		testStack{name: "App", deps: []string{"Data"}, template: appTemplate},
		testStack{name: "Data", template: dataTemplate, assets: []string{"abcd"}},
	))
	if err != nil {
		t.Fatal(err)
	}
	d, err := Materialize(ctx, cfg, a, WithRunID("unit"))
	if err != nil {
		t.Fatal(err)
	}
	ref := func(stack, id string) string {
		t.Helper()
		v, err := d.Ref(stack, id)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	attr := func(stack, id, name string) string {
		t.Helper()
		v, err := d.Attr(stack, id, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("skipped and gaps", func(t *testing.T) {
		var skipped []string
		for _, s := range d.Skipped {
			skipped = append(skipped, s.Stack+"/"+s.LogicalID)
			if s.Reason == "" {
				t.Errorf("%s/%s skipped without a reason", s.Stack, s.LogicalID)
			}
		}
		want := []string{"Data/NeverQueue", "Data/Logs", "Data/Fn", "Data/Mapping", "App/Subscription", "App/Mystery", "App/AppFn"}
		slices.Sort(skipped)
		slices.Sort(want)
		if !reflect.DeepEqual(skipped, want) {
			t.Errorf("skipped %v, want %v", skipped, want)
		}
		for _, s := range d.Skipped {
			if s.LogicalID == "Mystery" && !strings.Contains(s.Reason, "unknown resource type") {
				t.Errorf("Mystery skipped because %q", s.Reason)
			}
		}
		wantGaps := []string{
			"Data/Queue (AWS::SQS::Queue): property Tags is not applied",
			`Data/BucketPolicy (AWS::S3::BucketPolicy): statement 0 (Deny "s3:*" on condition aws:SecureTransport) is not applied: moto enforces it for every request, ignoring its Condition`,
		}
		if !reflect.DeepEqual(d.Gaps, wantGaps) {
			t.Errorf("gaps %q, want %q", d.Gaps, wantGaps)
		}
		for _, r := range d.Resources {
			materialized := !slices.Contains(want, r.Stack+"/"+r.LogicalID)
			if r.Materialized != materialized {
				t.Errorf("%s/%s: Materialized %v", r.Stack, r.LogicalID, r.Materialized)
			}
		}
	})

	t.Run("names", func(t *testing.T) {
		if got, want := ref("Data", "Table"), physicalName("unit", "Data", "Table", 255, false); got != want {
			t.Errorf("table name %q, want %q", got, want)
		}
		if got := ref("Data", "Bucket"); got != strings.ToLower(got) || !strings.HasPrefix(got, "data-bucket-") {
			t.Errorf("bucket name %q", got)
		}
		if got, want := attr("Data", "Fn", "Arn"), "arn:aws:lambda:us-east-1:123456789012:function:"+ref("Data", "Fn"); got != want {
			t.Errorf("function ARN %q, want %q", got, want)
		}
		if got := ref("Data", "Mapping"); len(got) != 36 {
			t.Errorf("event source mapping id %q", got)
		}
		_, err := d.Ref("App", "Mystery")
		var re *RefError
		if !errors.As(err, &re) || re.Target != "Mystery" || !strings.Contains(re.Reason, "unknown resource type") {
			t.Errorf("Ref of a resource of an unknown type: %v", err)
		}
		if _, err := d.Attr("Data", "Queue", "Nope"); err == nil || !strings.Contains(err.Error(), "Queue.Nope") {
			t.Errorf("Attr of an unknown attribute: %v", err)
		}
	})

	t.Run("environment and properties", func(t *testing.T) {
		env := d.Environment(a.Function("Data", "Fn"))
		want := map[string]string{
			"TABLE": ref("Data", "Table"), "QUEUE": ref("Data", "Queue"), "STREAM": attr("Data", "Stream", "Arn"),
			"BUS": "arn:aws:events:us-east-1:123456789012:event-bus/rehearsal-test-bus", "LOGS": ref("Data", "Logs"), "SIZE": "10",
		}
		if !reflect.DeepEqual(env, want) {
			t.Errorf("environment %v, want %v", env, want)
		}
		if env := d.Environment(a.Function("App", "AppFn")); env["STREAM"] != attr("Data", "Stream", "Arn") || env["SUB"] != ref("App", "Subscription") {
			t.Errorf("App environment %v", env)
		}
		mapping := d.Properties("Data", "Mapping")
		if mapping["EventSourceArn"] != attr("Data", "Table", "StreamArn") || mapping["FunctionName"] != ref("Data", "Fn") ||
			mapping["BatchSize"] != json.Number("10") {
			t.Errorf("mapping properties %v", mapping)
		}
		sub := d.Properties("App", "Subscription")
		if sub["ServiceToken"] != attr("Data", "Fn", "Arn") || sub["EventSourceArn"] != attr("Data", "Stream", "Arn") {
			t.Errorf("custom resource properties %v", sub)
		}
		sub["BatchSize"] = "changed"
		if d.Properties("App", "Subscription")["BatchSize"] != "100" {
			t.Error("Properties returned the deployment's own map")
		}
		if d.Properties("Data", "NeverQueue") != nil || d.Properties("Data", "Nope") != nil {
			t.Error("Properties of a resource whose condition is false, or of no resource")
		}
		if v, err := d.ImportValue("Data:StreamArn"); err != nil || v != attr("Data", "Stream", "Arn") {
			t.Errorf("ImportValue: %q, %v", v, err)
		}
		if v, err := d.Output("Data", "FnArn"); err != nil || v != attr("Data", "Fn", "Arn") {
			t.Errorf("Output: %q, %v", v, err)
		}
		if _, err := d.Output("Data", "Nope"); err == nil {
			t.Error("Output of an unknown output")
		}
	})

	t.Run("kinesis", func(t *testing.T) {
		c := kinesis.NewFromConfig(cfg)
		out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(ref("Data", "Stream"))})
		if err != nil {
			t.Fatal(err)
		}
		s := out.StreamDescriptionSummary
		if aws.ToInt32(s.OpenShardCount) != 2 || aws.ToInt32(s.RetentionPeriodHours) != 48 || s.EncryptionType != "KMS" ||
			aws.ToString(s.StreamARN) != attr("Data", "Stream", "Arn") {
			t.Errorf("stream %+v", s)
		}
		cons, err := c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String(ref("Data", "Consumer"))})
		if err != nil || aws.ToString(cons.ConsumerDescription.ConsumerName) != "fanout" {
			t.Errorf("consumer: %v", err)
		}
	})

	t.Run("sqs and sns", func(t *testing.T) {
		c := sqs.NewFromConfig(cfg)
		url := ref("Data", "Queue")
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		var redrive struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     any    `json:"maxReceiveCount"`
		}
		_ = json.Unmarshal([]byte(out.Attributes["RedrivePolicy"]), &redrive)
		if out.Attributes["VisibilityTimeout"] != "45" || redrive.DeadLetterTargetArn != attr("Data", "DeadLetters", "Arn") ||
			toString(redrive.MaxReceiveCount) != "3" || !strings.Contains(out.Attributes["Policy"], "events.amazonaws.com") {
			t.Errorf("queue attributes %v", out.Attributes)
		}
		topic := sns.NewFromConfig(cfg)
		ta, err := topic.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(ref("Data", "Topic"))})
		if err != nil {
			t.Fatal(err)
		}
		if ta.Attributes["DisplayName"] != "Things" || ta.Attributes["KmsMasterKeyId"] != attr("Data", "Key", "Arn") {
			t.Errorf("topic attributes %v", ta.Attributes)
		}
		// The subscription delivers to the queue.
		if _, err := topic.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(ref("Data", "Topic")), Message: aws.String("via-sns")}); err != nil {
			t.Fatal(err)
		}
		if !receive(t, c, url, "via-sns") {
			t.Error("the topic's subscription did not deliver to the queue")
		}
	})

	t.Run("dynamodb", func(t *testing.T) {
		c := dynamodb.NewFromConfig(cfg)
		out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(ref("Data", "Table"))})
		if err != nil {
			t.Fatal(err)
		}
		tb := out.Table
		if len(tb.KeySchema) != 2 || aws.ToString(tb.KeySchema[1].AttributeName) != "sk" || len(tb.GlobalSecondaryIndexes) != 1 ||
			aws.ToString(tb.GlobalSecondaryIndexes[0].IndexName) != "byTime" ||
			!reflect.DeepEqual(tb.GlobalSecondaryIndexes[0].Projection.NonKeyAttributes, []string{"payload"}) ||
			tb.StreamSpecification == nil || tb.StreamSpecification.StreamViewType != "NEW_AND_OLD_IMAGES" ||
			aws.ToString(tb.LatestStreamArn) != attr("Data", "Table", "StreamArn") {
			t.Errorf("table %+v", tb)
		}
		ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: tb.TableName})
		if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "expires" {
			t.Errorf("time to live: %+v, %v", ttl, err)
		}
	})

	t.Run("s3 and eventbridge", func(t *testing.T) {
		c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
		bucket := ref("Data", "Bucket")
		v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
		if err != nil || v.Status != "Enabled" {
			t.Errorf("versioning: %+v, %v", v, err)
		}
		lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: &bucket})
		if err != nil || len(lc.Rules) != 1 || aws.ToInt32(lc.Rules[0].Expiration.Days) != 30 {
			t.Errorf("lifecycle: %v", err)
		}
		pol, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: &bucket})
		if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"s3:DeleteObject"`) || strings.Contains(aws.ToString(pol.Policy), "SecureTransport") {
			t.Errorf("bucket policy %s, %v", aws.ToString(pol.Policy), err)
		}
		eb := eventbridge.NewFromConfig(cfg)
		rule, err := eb.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(ref("Data", "BusRule")[len("rehearsal-test-bus|"):]), EventBusName: aws.String("rehearsal-test-bus")})
		if err != nil || !strings.Contains(aws.ToString(rule.EventPattern), "rehearsal.test") || aws.ToString(rule.Arn) != attr("Data", "BusRule", "Arn") {
			t.Errorf("rule on the bus: %+v, %v", rule, err)
		}
		// EventBridge notifications: an object created in the bucket reaches the queue through the default bus.
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("events/x"), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		if !receive(t, sqs.NewFromConfig(cfg), ref("Data", "Queue"), `"Object Created"`) {
			t.Error("the bucket's Object Created event did not reach the queue")
		}
	})

	t.Run("iam, kms and step functions", func(t *testing.T) {
		c := iam.NewFromConfig(cfg)
		role := ref("Data", "Role")
		names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &role})
		if err != nil || !reflect.DeepEqual(names.PolicyNames, []string{"own", "tablewrite"}) {
			t.Errorf("role policies %v, %v", names, err)
		}
		pols := d.Policies("Data", "Role")
		if len(pols) != 2 || pols[0].Name != "own" || pols[0].Source != "" || pols[1].Name != "tablewrite" || pols[1].Source != "Policy" ||
			!strings.Contains(string(pols[1].Document), attr("Data", "Table", "Arn")) {
			t.Errorf("Policies: %+v", pols)
		}
		if arn, err := d.RoleARN("Data", "Role"); err != nil || arn != "arn:aws:iam::123456789012:role/"+role {
			t.Errorf("RoleARN %q, %v", arn, err)
		}
		rot, err := kms.NewFromConfig(cfg).GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(ref("Data", "Key"))})
		if err != nil || !rot.KeyRotationEnabled {
			t.Errorf("key rotation: %+v, %v", rot, err)
		}
		sm, err := sfn.NewFromConfig(cfg).DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(ref("Data", "Machine"))})
		if err != nil || !strings.Contains(aws.ToString(sm.Definition), `"Result":"`+ref("Data", "Table")+`"`) ||
			aws.ToString(sm.RoleArn) != attr("Data", "Role", "Arn") {
			t.Errorf("state machine %+v, %v", sm, err)
		}
	})
}

func TestMaterializeErrors(t *testing.T) {
	cfg := moto.Config(t)
	tests := []struct {
		name, template string
		want           []string
	}{
		{"reference to a resource of an unknown type",
			`{"Resources": {"M": {"Type": "AWS::Foo::Bar"}, "Q": {"Type": "AWS::SQS::Queue", "Properties": {"Tags": [{"Key": "k", "Value": {"Ref": "M"}}]}}}}`,
			[]string{"stack S", "resource Q", "Ref M", "unknown resource type"}},
		{"unknown attribute",
			`{"Resources": {"A": {"Type": "AWS::SQS::Queue"}, "B": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["A", "Nope"]}, "maxReceiveCount": 1}}}}}`,
			[]string{"stack S", "resource B", "Fn::GetAtt A.Nope", "AWS::SQS::Queue has no attribute Nope"}},
		{"moto refuses the resource",
			`{"Resources": {"B": {"Type": "AWS::SQS::Queue", "Properties": {"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:missing", "maxReceiveCount": 1}}}}}`,
			[]string{"stack S", "resource B (AWS::SQS::Queue)", "CreateQueue"}},
		{"malformed property",
			`{"Resources": {"B": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": {"A": 1}}}}}`,
			[]string{"stack S", "resource B (AWS::SQS::Queue)", "property VisibilityTimeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Load(writeAssembly(t, testStack{name: "S", template: tc.template}))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Materialize(context.Background(), cfg, a)
			if err == nil {
				t.Fatal("Materialize succeeded")
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

// receive waits up to 5 s for a message of the queue that contains want.
func receive(t *testing.T, c *sqs.Client, url, want string) bool {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if strings.Contains(aws.ToString(m.Body), want) {
				return true
			}
		}
	}
	return false
}

func toString(v any) string {
	s, _ := scalarString(v)
	if f, ok := v.(float64); ok {
		s, _ = scalarString(f)
	}
	return s
}
