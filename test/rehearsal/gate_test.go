package rehearsal

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestClassify reads what the AWS SDK really sends: each call goes to a server that keeps the request and refuses
// it, and the rehearsal's classification of the request must name the call's IAM action and resources.
func TestClassify(t *testing.T) {
	var mu sync.Mutex
	var last call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		last = classify(r, body, Region, "123456789012")
		mu.Unlock()
		writeDenied(w, "lambda", "refused by the test")
	}))
	defer srv.Close()
	cfg := configFor(srv.URL, aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "SECRET"})
	ctx := context.Background()
	table := "arn:aws:dynamodb:us-east-1:123456789012:table/"
	key := map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "k"}}
	ddb, k, l := dynamodb.NewFromConfig(cfg), kinesis.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	tx := []string{"TransactWriteItems"}

	for _, c := range []struct {
		name     string
		do       func()
		action   string
		checks   []request // nil: left to moto
		resource string    // when no checks
	}{
		{"DynamoDB PutItem", func() { ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t1"), Item: key}) },
			"dynamodb:PutItem", []request{{"dynamodb:PutItem", table + "t1", nil}}, ""},
		{"DynamoDB Query on an index", func() {
			ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("t1"), IndexName: aws.String("byTime"), KeyConditionExpression: aws.String("a = :a"),
				ExpressionAttributeValues: map[string]dtypes.AttributeValue{":a": &dtypes.AttributeValueMemberS{Value: "x"}}})
		}, "dynamodb:Query", []request{{"dynamodb:Query", table + "t1/index/byTime", nil}}, ""},
		{"DynamoDB BatchWriteItem on two tables", func() {
			ddb.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{
				"t2": {{PutRequest: &dtypes.PutRequest{Item: key}}}, "t1": {{DeleteRequest: &dtypes.DeleteRequest{Key: key}}}}})
		}, "dynamodb:BatchWriteItem", []request{{"dynamodb:BatchWriteItem", table + "t1", nil}, {"dynamodb:BatchWriteItem", table + "t2", nil}}, ""},
		{"DynamoDB TransactWriteItems", func() {
			ddb.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
				{Put: &dtypes.Put{TableName: aws.String("t1"), Item: key}},
				{Update: &dtypes.Update{TableName: aws.String(table + "t2"), Key: key, UpdateExpression: aws.String("SET a = :a"),
					ExpressionAttributeValues: map[string]dtypes.AttributeValue{":a": &dtypes.AttributeValueMemberS{Value: "x"}}}},
				{ConditionCheck: &dtypes.ConditionCheck{TableName: aws.String("t3"), Key: key, ConditionExpression: aws.String("attribute_exists(pk)")}},
			}})
		}, "dynamodb:TransactWriteItems", []request{
			{"dynamodb:PutItem", table + "t1", map[string][]string{"dynamodb:enclosingoperation": tx}},
			{"dynamodb:UpdateItem", table + "t2", map[string][]string{"dynamodb:enclosingoperation": tx}},
			{"dynamodb:ConditionCheckItem", table + "t3", map[string][]string{"dynamodb:enclosingoperation": tx}},
		}, ""},
		{"DynamoDB Streams DescribeStream", func() {
			dynamodbstreams.NewFromConfig(cfg).DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(table + "t1/stream/2026")})
		}, "dynamodb:DescribeStream", []request{{"dynamodb:DescribeStream", table + "t1/stream/2026", nil}}, ""},
		{"DynamoDB Streams GetRecords (a shard iterator tells no resource)", func() {
			dynamodbstreams.NewFromConfig(cfg).GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("opaque")})
		}, "dynamodb:GetRecords", nil, "(not told by the request)"},
		{"Kinesis PutRecord by name", func() {
			k.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s1"), PartitionKey: aws.String("p"), Data: []byte("x")})
		}, "kinesis:PutRecord", []request{{"kinesis:PutRecord", "arn:aws:kinesis:us-east-1:123456789012:stream/s1", nil}}, ""},
		{"Kinesis DescribeStreamConsumer", func() {
			k.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s1/consumer/c:1")})
		}, "kinesis:DescribeStreamConsumer", []request{{"kinesis:DescribeStreamConsumer", "arn:aws:kinesis:us-east-1:123456789012:stream/s1/consumer/c:1", nil}}, ""},
		{"Step Functions StartExecution", func() {
			sfn.NewFromConfig(cfg).StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:123456789012:stateMachine:m")})
		}, "states:StartExecution", []request{{"states:StartExecution", "arn:aws:states:us-east-1:123456789012:stateMachine:m", nil}}, ""},
		{"SNS Publish", func() {
			sns.NewFromConfig(cfg).Publish(ctx, &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), Message: aws.String("m")})
		}, "sns:Publish", []request{{"sns:Publish", "arn:aws:sns:us-east-1:123456789012:t", nil}}, ""},
		{"EventBridge PutEvents on the default bus and a named one", func() {
			eventbridge.NewFromConfig(cfg).PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
				{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}")},
				{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("bus")},
				{Source: aws.String("s"), DetailType: aws.String("d"), Detail: aws.String("{}"), EventBusName: aws.String("default")},
			}})
		}, "events:PutEvents", []request{{"events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default", nil},
			{"events:PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/bus", nil}}, ""},
		{"Lambda Invoke by name with a qualifier", func() {
			l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("f"), Qualifier: aws.String("live")})
		}, "lambda:InvokeFunction", []request{{"lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f:live", nil}}, ""},
		{"Lambda Invoke by ARN", func() {
			l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:123456789012:function:f")})
		}, "lambda:InvokeFunction", []request{{"lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f", nil}}, ""},
		{"Lambda CreateEventSourceMapping", func() {
			l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String("f"), EventSourceArn: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s1")})
		}, "lambda:CreateEventSourceMapping", []request{{"lambda:CreateEventSourceMapping", "*", nil}}, ""},
		{"Lambda UpdateEventSourceMapping", func() {
			l.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String("u-1"), BatchSize: aws.Int32(10)})
		}, "lambda:UpdateEventSourceMapping", []request{{"lambda:UpdateEventSourceMapping", "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:u-1", nil}}, ""},
		{"S3 PutObject (moto checks it; the report names it)", func() {
			s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("payloads/k"), Body: bytes.NewReader([]byte("x"))})
		}, "s3:PutObject", nil, "arn:aws:s3:::b/payloads/k"},
		{"S3 ListObjectsV2 from an IP endpoint without path style", func() {
			s3.NewFromConfig(cfg).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b"), Prefix: aws.String("events/")})
		}, "s3:ListBucket", nil, "arn:aws:s3:::b"},
		{"SQS SendMessage (moto checks it; the report names it)", func() {
			sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://127.0.0.1:1/123456789012/q1"), MessageBody: aws.String("m")})
		}, "sqs:SendMessage", nil, "arn:aws:sqs:us-east-1:123456789012:q1"},
	} {
		c.do()
		mu.Lock()
		got := last
		mu.Unlock()
		if got.Action != c.action {
			t.Errorf("%s: action %q, want %q", c.name, got.Action, c.action)
		}
		sortChecks := func(rs []request) []request {
			rs = slices.Clone(rs)
			slices.SortFunc(rs, func(a, b request) int {
				if a.Resource < b.Resource {
					return -1
				}
				if a.Resource > b.Resource {
					return 1
				}
				return 0
			})
			return rs
		}
		gc, wc := sortChecks(got.Checks), sortChecks(c.checks)
		if len(gc) != len(wc) {
			t.Errorf("%s: checks %+v, want %+v", c.name, got.Checks, c.checks)
			continue
		}
		for i := range gc {
			if gc[i].Action != wc[i].Action || gc[i].Resource != wc[i].Resource || !equalContext(gc[i].Context, wc[i].Context) {
				t.Errorf("%s: check %+v, want %+v", c.name, gc[i], wc[i])
			}
		}
		if c.resource != "" && got.Resource != c.resource {
			t.Errorf("%s: resource %q, want %q", c.name, got.Resource, c.resource)
		}
	}
}

func equalContext(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
