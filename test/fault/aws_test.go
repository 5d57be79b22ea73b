package fault_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func newStream(t *testing.T, kc *kinesis.Client) string {
	t.Helper()
	name := unique("stream")
	ctx := context.Background()
	if _, err := kc.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	d, err := kc.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.StreamDescriptionSummary.StreamARN)
}

func TestLambdaAsAWS(t *testing.T) {
	// GIVEN a Lambda client that behaves as Lambda does, a function and a stream
	cfg := moto.Config(t)
	ctx := context.Background()
	b := fault.LambdaAsAWS(cfg)
	l := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.APIOptions = append(o.APIOptions, b.Install) })
	fn := moto.NewFunction(t, cfg, unique("fn"))
	stream := newStream(t, kinesis.NewFromConfig(cfg))
	in := &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &stream, StartingPosition: ltypes.EventSourcePositionLatest}

	// WHEN the same mapping is created twice
	first, err := l.CreateEventSourceMapping(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.CreateEventSourceMapping(ctx, in)

	// THEN the second fails as Lambda fails it: the modelled error, 409, the existing UUID in the message
	var conflict *ltypes.ResourceConflictException
	if !errors.As(err, &conflict) || status(err) != http.StatusConflict || !strings.Contains(err.Error(), "UUID "+aws.ToString(first.UUID)) {
		t.Errorf("second create: %v, want a 409 ResourceConflictException naming %s", err, aws.ToString(first.UUID))
	}
	if out, _ := lambda.NewFromConfig(cfg).ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: &fn}); len(out.EventSourceMappings) != 1 {
		t.Errorf("%d mappings in moto, want the first only", len(out.EventSourceMappings))
	}

	// AND a mapping of the same function on another source is made
	other := newStream(t, kinesis.NewFromConfig(cfg))
	if _, err := l.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: &fn, EventSourceArn: &other, StartingPosition: ltypes.EventSourcePositionLatest}); err != nil {
		t.Errorf("a mapping on another stream: %v", err)
	}

	// AND an update or delete of an unknown UUID fails with 404, where moto answers success; a known one goes through
	missing := aws.String("11111111-2222-3333-4444-555555555555")
	_, err = l.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: missing, BatchSize: aws.Int32(5)})
	var nf *ltypes.ResourceNotFoundException
	if !errors.As(err, &nf) || status(err) != http.StatusNotFound {
		t.Errorf("update of an unknown UUID: %v, want a 404 ResourceNotFoundException", err)
	}
	if _, err := l.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: missing}); !errors.As(err, &nf) {
		t.Errorf("delete of an unknown UUID: %v, want ResourceNotFoundException", err)
	}
	if _, err := l.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: first.UUID}); err != nil {
		t.Errorf("delete of the mapping: %v", err)
	}
	if _, err := l.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: first.UUID}); !errors.As(err, &nf) {
		t.Errorf("second delete of the mapping: %v, want ResourceNotFoundException", err)
	}
	if got := [3]int{b.Applied("CreateEventSourceMapping"), b.Applied("UpdateEventSourceMapping"), b.Applied("DeleteEventSourceMapping")}; got != [3]int{1, 1, 2} {
		t.Errorf("applied %v, want [1 1 2]", got)
	}
}

func newTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	name := unique("table")
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dtypes.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: dtypes.ScalarAttributeTypeN}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dtypes.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: dtypes.KeyTypeRange}},
		BillingMode:          dtypes.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func item(pk string, sk int, extra string) map[string]dtypes.AttributeValue {
	return map[string]dtypes.AttributeValue{
		"pk": &dtypes.AttributeValueMemberS{Value: pk}, "sk": &dtypes.AttributeValueMemberN{Value: fmt.Sprint(sk)},
		"x": &dtypes.AttributeValueMemberS{Value: extra},
	}
}

func count(t *testing.T, db *dynamodb.Client, table string) int {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: &table, Select: dtypes.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

func TestDynamoDBAsAWS(t *testing.T) {
	// GIVEN a DynamoDB client that checks writes as DynamoDB does, and a table keyed by pk and sk
	cfg := moto.Config(t)
	ctx := context.Background()
	b := fault.DynamoDBAsAWS(cfg)
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, b.Install) })
	plain := dynamodb.NewFromConfig(cfg)
	table := newTable(t, plain)
	put := func(it map[string]dtypes.AttributeValue) dtypes.WriteRequest {
		return dtypes.WriteRequest{PutRequest: &dtypes.PutRequest{Item: it}}
	}

	// WHEN one batch holds two puts of one key (whole items that differ: moto compares whole items and writes them)
	_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{
		table: {put(item("a", 1, "first")), put(item("b", 1, "")), put(item("a", 1, "second"))}}})

	// THEN the batch fails with a 400 ValidationException and nothing is written
	if errorCodeOf(err) != "ValidationException" || status(err) != http.StatusBadRequest {
		t.Errorf("duplicate keys in a batch: %v, want a 400 ValidationException", err)
	}
	if n := count(t, plain, table); n != 0 {
		t.Errorf("%d items written, want none", n)
	}

	// AND the same key in two sort keys is no duplicate
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{
		table: {put(item("a", 1, "")), put(item("a", 2, ""))}}}); err != nil {
		t.Errorf("two sort keys: %v", err)
	}

	// AND a transaction with two actions on one item fails too
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []dtypes.TransactWriteItem{
		{Put: &dtypes.Put{TableName: &table, Item: item("c", 1, "")}},
		{Delete: &dtypes.Delete{TableName: &table, Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "c"}, "sk": &dtypes.AttributeValueMemberN{Value: "1"}}}},
	}})
	if errorCodeOf(err) != "ValidationException" {
		t.Errorf("two actions on one item in a transaction: %v, want ValidationException", err)
	}
	if got := b.Applied("BatchWriteItem") + b.Applied("TransactWriteItems"); got != 2 {
		t.Errorf("applied %d times, want 2", got)
	}
}

func TestUnprocessed(t *testing.T) {
	// GIVEN a client whose first BatchWriteItem leaves the items of partition "b" unprocessed
	cfg := moto.Config(t)
	ctx := context.Background()
	plain := dynamodb.NewFromConfig(cfg)
	table := newTable(t, plain)
	b := fault.Unprocessed(func(call int, _ string, r dtypes.WriteRequest) bool {
		return call == 1 && r.PutRequest.Item["pk"].(*dtypes.AttributeValueMemberS).Value == "b"
	})
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, b.Install) })
	reqs := []dtypes.WriteRequest{{PutRequest: &dtypes.PutRequest{Item: item("a", 1, "")}}, {PutRequest: &dtypes.PutRequest{Item: item("b", 1, "")}}, {PutRequest: &dtypes.PutRequest{Item: item("b", 2, "")}}}

	// WHEN a batch of three is written
	out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]dtypes.WriteRequest{table: reqs}})

	// THEN one is written and two come back unprocessed, as they were asked
	if err != nil {
		t.Fatal(err)
	}
	if got := out.UnprocessedItems[table]; len(got) != 2 || got[0].PutRequest.Item["sk"].(*dtypes.AttributeValueMemberN).Value != "1" {
		t.Errorf("unprocessed %+v, want the two items of b", got)
	}
	if n := count(t, plain, table); n != 1 {
		t.Errorf("%d items written, want 1", n)
	}

	// AND handing them back writes them
	if out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: out.UnprocessedItems}); err != nil || len(out.UnprocessedItems) != 0 {
		t.Errorf("second call: %v, %d unprocessed", err, len(out.UnprocessedItems))
	}
	if n := count(t, plain, table); n != 3 || b.Applied("BatchWriteItem") != 1 {
		t.Errorf("%d items written and %d calls changed, want 3 and 1", n, b.Applied("BatchWriteItem"))
	}
}

func TestFailRecords(t *testing.T) {
	// GIVEN a Kinesis client whose PutRecords fails the entries at odd positions
	cfg := moto.Config(t)
	ctx := context.Background()
	plain := kinesis.NewFromConfig(cfg)
	stream := newStream(t, plain)
	b := fault.FailRecords(func(_, i int, _ ktypes.PutRecordsRequestEntry) bool { return i%2 == 1 })
	kc := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.APIOptions = append(o.APIOptions, b.Install) })
	var entries []ktypes.PutRecordsRequestEntry
	for i := range 5 {
		entries = append(entries, ktypes.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte(fmt.Sprint(i))})
	}

	// WHEN five records are put
	out, err := kc.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: &stream, Records: entries})

	// THEN the call succeeds with two entries failed at their positions, and three records in the stream
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 2 || len(out.Records) != 5 {
		t.Fatalf("FailedRecordCount %d of %d entries, want 2 of 5", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	for i, r := range out.Records {
		if failed := aws.ToString(r.ErrorCode) == "ProvisionedThroughputExceededException"; failed != (i%2 == 1) || failed == (r.SequenceNumber != nil) {
			t.Errorf("entry %d: %+v", i, r)
		}
	}
	it, _ := plain.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &stream, ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
	recs, err := plain.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &stream, ShardIterator: it.ShardIterator})
	if err != nil || len(recs.Records) != 3 || string(recs.Records[1].Data) != "2" {
		t.Errorf("the stream holds %d records (%v), want 0, 2 and 4", len(recs.Records), err)
	}
}

func errorCodeOf(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return fmt.Sprint(err)
}
