package rehearsal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

func TestStartMoto(t *testing.T) {
	m := StartMoto(t)
	ctx := context.Background()
	status := func(err error) int {
		var re *awshttp.ResponseError
		if errors.As(err, &re) {
			return re.HTTPStatusCode()
		}
		return 0
	}
	if _, err := iam.NewFromConfig(configFor(m.URL, aws.Credentials{AccessKeyID: "AKIDMADEUP", SecretAccessKey: "x"})).ListUsers(ctx, &iam.ListUsersInput{}); status(err) != http.StatusForbidden {
		t.Errorf("made-up credentials: %v, want 403", err)
	}
	wrong := m.Admin
	wrong.SecretAccessKey += "x"
	if _, err := iam.NewFromConfig(configFor(m.URL, wrong)).ListUsers(ctx, &iam.ListUsersInput{}); status(err) != http.StatusForbidden {
		t.Errorf("the admin's key with a wrong secret (a bad signature): %v, want 403", err)
	}
	users, err := iam.NewFromConfig(m.Config("")).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 1 || aws.ToString(users.Users[0].Arn) != m.AdminARN {
		t.Fatalf("the admin: %v %+v", err, users)
	}
}

// TestIAM shows, on the blueprint, what moto checks alone and what the rehearsal's gate adds, with the functions'
// own credentials, and runs the replay end to end: S3 checked by moto, its Lambda Invoke by the gate on the front.
func TestIAM(t *testing.T) {
	r := Start(t, AssemblyDir(t), WithoutEcho())
	d := r.Deployment()
	ctx := context.Background()
	writer := withEnv(t, r, "TABLE", "PAYLOAD_BUCKET", "SHARDS")
	monitor := withEnv(t, r, "WATCHES")
	replay := withEnv(t, r, "LAKE_BUCKET", "TARGET_FUNCTION")
	counters := monitor.Environment["TABLE"]
	key := map[string]dtypes.AttributeValue{"dataSet": &dtypes.AttributeValueMemberS{Value: "iam-test"}}
	asFunction := func(fn *Function, endpoint string) aws.Config {
		c, err := fn.config.Credentials(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return configFor(endpoint, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken})
	}

	t.Run("moto alone checks DynamoDB actions, not resources", func(t *testing.T) {
		db := dynamodb.NewFromConfig(asFunction(writer, r.Moto().URL)) // straight to moto, past the gate
		// The writer may put items in the event store only: moto lets it into the observer's counters.
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &counters, Item: key}); err != nil {
			t.Errorf("moto refused a DynamoDB call of a granted action on another table: %v (has moto started matching DynamoDB resources? the widening may no longer be needed)", err)
		}
		// moto's refusal is an XML body the SDK cannot read for a JSON service: the status tells.
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(writer.Environment["TABLE"])})
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusForbidden {
			t.Errorf("moto allowed an action no policy grants: %v", err)
		}
	})

	t.Run("moto's refusals of JSON services reach the SDK as AWS answers them", func(t *testing.T) {
		// A request whose resource the gate cannot tell (a shard iterator) is moto's alone to check: moto refuses the
		// writer's dynamodb:GetRecords, and the SDK reads an AccessDeniedException naming it.
		streams := dynamodbstreams.NewFromConfig(asFunction(writer, r.Endpoint()))
		_, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String("an-iterator")})
		if errorCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "not authorized to perform: dynamodb:GetRecords") {
			t.Errorf("GetRecords: %v", err)
		}
		ds := r.TakeDenials()
		if len(ds) != 1 || ds[0].By != "moto" || ds[0].Action != "dynamodb:GetRecords" || ds[0].Resource != "(not told by the request)" {
			t.Errorf("denials %+v", ds)
		}
	})

	t.Run("the gate checks DynamoDB resources", func(t *testing.T) {
		db := dynamodb.NewFromConfig(asFunction(writer, r.Endpoint()))
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &counters, Item: key})
		if errorCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), tableARN(counters)) {
			t.Errorf("the writer put an item in the counters table: %v", err)
		}
		ds := r.TakeDenials()
		if len(ds) != 1 || ds[0].By != "rehearsal" || ds[0].Action != "dynamodb:PutItem" || ds[0].Resource != tableARN(counters) || ds[0].Function != writer.Name() {
			t.Errorf("denials %+v", ds)
		}
	})

	t.Run("moto checks S3 resources", func(t *testing.T) {
		s := s3.NewFromConfig(asFunction(writer, r.Endpoint()))
		bucket := writer.Environment["PAYLOAD_BUCKET"]
		if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("payloads/iam-test"), Body: strings.NewReader("{}")}); err != nil {
			t.Errorf("granted s3:PutObject under payloads/: %v", err)
		}
		if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("elsewhere/iam-test"), Body: strings.NewReader("{}")}); err == nil {
			t.Error("moto let the writer put an object outside payloads/")
		}
		ds := r.TakeDenials()
		want := "arn:aws:s3:::" + bucket + "/elsewhere/iam-test"
		if len(ds) != 1 || ds[0].By != "moto" || ds[0].Action != "s3:PutObject" || ds[0].Resource != want {
			t.Errorf("denials %+v, want s3:PutObject on %s by moto", ds, want)
		}
	})

	t.Run("the gate checks Lambda invocations on the front", func(t *testing.T) {
		target := r.FunctionNamed(lastSegment(replay.Environment["TARGET_FUNCTION"]))
		other := withEnv(t, r, "MICROSTORE_TABLE")
		if target == nil {
			t.Fatalf("the replay's TARGET_FUNCTION %s is none of the rehearsal's functions", replay.Environment["TARGET_FUNCTION"])
		}
		l := lambda.NewFromConfig(asFunction(replay, ""), func(o *lambda.Options) { o.BaseEndpoint = aws.String(r.FrontURL()) })
		if _, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(target.ARN()), InvocationType: ltypes.InvocationTypeDryRun}); err != nil {
			t.Errorf("the replay invoking its target: %v", err)
		}
		_, err := l.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(other.Name()), InvocationType: ltypes.InvocationTypeDryRun})
		if errorCode(err) != "AccessDeniedException" {
			t.Errorf("the replay invoking %s: %v", other.Name(), err)
		}
		if ds := r.TakeDenials(); len(ds) != 1 || ds[0].Action != "lambda:InvokeFunction" || ds[0].Resource != other.ARN() {
			t.Errorf("denials %+v", ds)
		}
		admin := lambda.NewFromConfig(r.AdminConfig(), func(o *lambda.Options) { o.BaseEndpoint = aws.String(r.FrontURL()) })
		_, err = admin.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("no-such-function")})
		var nf *ltypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("an unknown function: %v, want ResourceNotFoundException", err)
		}
	})

	t.Run("the replay reads the lake and invokes its target", func(t *testing.T) {
		target := r.FunctionNamed(lastSegment(replay.Environment["TARGET_FUNCTION"]))
		bucket, prefix := replay.Environment["LAKE_BUCKET"], replay.Environment["LAKE_PREFIX"]
		var lines bytes.Buffer
		for i := range 3 {
			fmt.Fprintf(&lines, `{"kinesisRecordMetadata":{"sequenceNumber":"4960%d","subsequenceNumber":0,"partitionKey":"order-%d","shardId":"shardId-000000000000","approximateArrivalTimestamp":%d},"event":{"id":"r%d","type":"order-created","timestamp":%d,"partitionKey":"order-%d"}}`+"\n",
				i, i, time.Now().UnixMilli(), i, time.Now().UnixMilli(), i)
		}
		admin := s3.NewFromConfig(r.AdminConfig(), func(o *s3.Options) { o.UsePathStyle = true })
		if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(prefix + "2026/11/24/10/lake-1.json"), Body: bytes.NewReader(lines.Bytes())}); err != nil {
			t.Fatal(err)
		}
		before := target.Stats().Invocations
		out, err := replay.Invoke(ctx, []byte(`{"prefix":"`+prefix+`2026/11/24/10/","sync":true}`))
		if err != nil {
			t.Fatalf("replay: %v\n%s", err, replay.Logs())
		}
		var job struct {
			Done   bool
			Totals struct{ Read, Delivered, Failed int }
		}
		if err := json.Unmarshal(out, &job); err != nil || !job.Done || job.Totals.Read != 3 || job.Totals.Delivered != 3 || job.Totals.Failed != 0 {
			t.Errorf("replay answered %s (%v)", out, err)
		}
		if n := target.Stats().Invocations - before; n < 1 {
			t.Errorf("the target was invoked %d times", n)
		}
		if err := r.Front().Wait(); err != nil {
			t.Error(err)
		}
	})

	t.Run("a policy naming a resource the templates lack is reported", func(t *testing.T) {
		for _, pd := range r.RolePolicies(writer.Stack, writer.RoleLogicalID) {
			if pd.Document == nil {
				continue
			}
			doc := strings.ReplaceAll(string(pd.Document), tableARN(writer.Environment["TABLE"]), tableARN("EventStoreTableMisspelt"))
			if doc == string(pd.Document) {
				continue
			}
			probs := resourceProblems(mustPolicy(t, doc), knownARNs(d), documentedWildcards(d.Region, d.AccountID))
			if len(probs) != 1 || !strings.Contains(probs[0], tableARN("EventStoreTableMisspelt")) || !strings.Contains(probs[0], "dynamodb:BatchWriteItem") {
				t.Errorf("problems %q", probs)
			}
			return
		}
		t.Fatal("no policy of the writer names its table")
	})
}

func lastSegment(arn string) string { return arn[strings.LastIndex(arn, ":")+1:] }

// TestS3Escapes: moto recomputes a request's signature over its query and path with some escapes decoded, so a signed
// S3 request whose query holds a slash (every ListObjectsV2 by prefix of a replay) or whose key holds a colon is
// refused with SignatureDoesNotMatch; through the gate, which re-signs such requests of the credentials it issued,
// they pass.
func TestS3Escapes(t *testing.T) {
	m := StartMoto(t)
	g, err := newGate(m.URL, Region, "123456789012")
	if err != nil {
		t.Fatal(err)
	}
	g.secrets[m.Admin.AccessKeyID] = m.Admin.SecretAccessKey
	srv := httptest.NewServer(g)
	defer srv.Close()
	ctx := context.Background()
	direct := s3.NewFromConfig(m.Config(""), func(o *s3.Options) { o.UsePathStyle = true })
	gated := s3.NewFromConfig(m.Config(srv.URL), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := aws.String("escapes")
	if _, err := gated.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	const keyChars = "/:,()*!$'@ +=&~" // moto cuts a path at ';' and cannot check keys with ';', '?', '#', '[', ']' or '%'
	for _, c := range keyChars {
		key := "a" + string(c) + "b/object"
		if _, err := gated.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &key, Body: strings.NewReader("{}")}); err != nil {
			t.Errorf("put %q through the gate: %v", key, err)
		}
		if _, err := gated.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: &key}); err != nil {
			t.Errorf("get %q through the gate: %v", key, err)
		}
	}
	for _, c := range keyChars + ";?#[]%" {
		prefix := "a" + string(c) + "b/"
		out, err := gated.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: &prefix})
		if want := int32(strings.Count(keyChars, string(c))); err != nil || aws.ToInt32(out.KeyCount) != want {
			t.Errorf("list %q through the gate: %v, want %d keys", prefix, err, want)
		}
	}
	if _, err := direct.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("a/b/")}); errorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("straight to moto, a prefix with a slash: %v; moto no longer refuses it: the gate's re-signing (resignForMoto) may go", err)
	}
	if _, err := direct.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("a:b/object")}); errorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("straight to moto, a key with a colon: %v; moto no longer refuses it: the gate's re-signing (resignForMoto) may go", err)
	}
	// A request signed wrongly stays refused: the gate re-signs only what it has verified.
	wrong := m.Admin
	wrong.SecretAccessKey += "x"
	bad := s3.NewFromConfig(configFor(srv.URL, wrong), func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := bad.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("a/b/")}); errorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("a wrong secret through the gate: %v", err)
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}
