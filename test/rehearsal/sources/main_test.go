package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/test/moto"
	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

func TestMain(m *testing.M) {
	code := moto.Run(m)
	lambdart.RemoveBuilds()
	os.Exit(code)
}

// bootstrapDir builds a handler package as it is deployed and returns its asset directory.
func bootstrapDir(t testing.TB, pkg string) string { return lambdart.Build(t, pkg) }

// newFunction runs a handler package's bootstrap under qemu, pointed at moto, closed when the test ends.
func newFunction(t testing.TB, name, pkg string, env map[string]string) *lambdart.Function {
	t.Helper()
	qemu := lambdart.QEMU(t)
	ep := moto.Endpoint(t)
	fn, err := lambdart.NewFunction(lambdart.Config{
		Name: name, AssetDir: bootstrapDir(t, pkg), Timeout: 30 * time.Second, Environment: env,
		Credentials: lambdart.StaticCredentials("testing", "testing", ""), EndpointURL: ep, QEMU: qemu, Echo: t,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fn.Close() })
	return fn
}

// uniqueName returns a resource name unique to the test and the run (the moto server is shared by the tests).
func uniqueName(t testing.TB, kind string) string {
	n := strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	if len(n) > 40 {
		n = n[:40]
	}
	return fmt.Sprintf("%s-%s-%s", strings.ToLower(n), kind, newUUID()[:8])
}

// calls records the invocations of a fake function, and answers them with handle.
type calls struct {
	mu       sync.Mutex
	payloads [][]byte
	handle   func(n int, payload []byte) ([]byte, error)
}

func (c *calls) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	c.mu.Lock()
	c.payloads = append(c.payloads, append([]byte(nil), payload...))
	n := len(c.payloads)
	c.mu.Unlock()
	if c.handle == nil {
		return []byte("null"), nil
	}
	return c.handle(n, payload)
}

func (c *calls) all() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.payloads...)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newStream creates a Kinesis stream of n shards in moto and returns its ARN.
func newStream(t testing.TB, cfg aws.Config, shards int) string {
	t.Helper()
	ctx := context.Background()
	c := kinesis.NewFromConfig(cfg)
	name := uniqueName(t, "stream")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(int32(shards))}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(c).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, time.Minute); err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.StreamDescriptionSummary.StreamARN)
}

// shardHashKeys returns, for each shard of the stream, an explicit hash key inside its range, by shard id.
func shardHashKeys(t testing.TB, cfg aws.Config, streamARN string) map[string]string {
	t.Helper()
	out, err := kinesis.NewFromConfig(cfg).ListShards(context.Background(), &kinesis.ListShardsInput{StreamARN: &streamARN})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, sh := range out.Shards {
		lo, _ := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
		keys[aws.ToString(sh.ShardId)] = lo.String()
	}
	return keys
}

// put writes one record and returns its shard and sequence number.
func put(t testing.TB, cfg aws.Config, streamARN, key string, data []byte, hashKey string) (string, string) {
	t.Helper()
	in := &kinesis.PutRecordInput{StreamARN: &streamARN, PartitionKey: &key, Data: data}
	if hashKey != "" {
		in.ExplicitHashKey = &hashKey
	}
	out, err := kinesis.NewFromConfig(cfg).PutRecord(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ShardId), aws.ToString(out.SequenceNumber)
}

// newQueue creates an SQS queue with attributes and returns its URL and ARN.
func newQueue(t testing.TB, cfg aws.Config, attrs map[string]string) (string, string) {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(cfg)
	name := uniqueName(t, "queue")
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), got.Attributes["QueueArn"]
}

// receiveAll receives every message visible in a queue now (deleting none).
func receiveAll(t testing.TB, cfg aws.Config, url string) []string {
	t.Helper()
	c := sqs.NewFromConfig(cfg)
	var bodies []string
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 60})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
}

// newTopic creates an SNS topic with a queue subscribed for raw delivery, and returns the topic's ARN.
func newTopic(t testing.TB, cfg aws.Config, queueARN string) string {
	t.Helper()
	ctx := context.Background()
	c := sns.NewFromConfig(cfg)
	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(uniqueName(t, "topic"))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("sqs"), Endpoint: &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

// newBucket creates an S3 bucket and returns its name.
func newBucket(t testing.TB, cfg aws.Config) string {
	t.Helper()
	name := uniqueName(t, "bucket")
	if len(name) > 63 {
		name = name[len(name)-63:]
		name = strings.TrimLeft(name, "-")
	}
	if _, err := s3Client(cfg).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
	return name
}

func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
}

// listKeys lists the keys of a bucket under a prefix.
func listKeys(t testing.TB, cfg aws.Config, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(s3Client(cfg), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func getObject(t testing.TB, cfg aws.Config, bucket, key string) []byte {
	t.Helper()
	out, err := s3Client(cfg).GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
