package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/test/moto"
)

// newStreamTable creates a table keyed by pk and sk with a stream of the given view type, and returns the table's name
// and the stream's ARN.
func newStreamTable(t testing.TB, cfg aws.Config, view dtypes.StreamViewType) (string, string) {
	t.Helper()
	name := uniqueName(t, "table")
	out, err := dynamodb.NewFromConfig(cfg).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: &name, BillingMode: dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: dtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: dtypes.ScalarAttributeTypeS},
		},
		KeySchema: []dtypes.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: dtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: dtypes.KeyTypeRange},
		},
		StreamSpecification: &dtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view},
	})
	if err != nil {
		t.Fatal(err)
	}
	return name, aws.ToString(out.TableDescription.LatestStreamArn)
}

func putItem(t testing.TB, cfg aws.Config, table string, item map[string]dtypes.AttributeValue) {
	t.Helper()
	if _, err := dynamodb.NewFromConfig(cfg).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: item}); err != nil {
		t.Fatal(err)
	}
}

func key(pk, sk string) map[string]dtypes.AttributeValue {
	return map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: pk}, "sk": &dtypes.AttributeValueMemberS{Value: sk}}
}

func withAttrs(item map[string]dtypes.AttributeValue, attrs map[string]dtypes.AttributeValue) map[string]dtypes.AttributeValue {
	out := map[string]dtypes.AttributeValue{}
	for k, v := range item {
		out[k] = v
	}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

func dynamoEvent(t testing.TB, payload []byte) events.DynamoDBEvent {
	t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload %s: %v", payload, err)
	}
	return ev
}

func TestDynamoDBInsertFilterAndEvent(t *testing.T) {
	// GIVEN a micro store's trigger mapping, as the blueprint's template has it, and a table that sees two inserts,
	// a modification and a removal
	cfg := moto.Config(t)
	table, stream := newStreamTable(t, cfg, dtypes.StreamViewTypeNewAndOldImages)
	queueURL, queueARN := newQueue(t, cfg, nil)
	s, err := DynamoDBSettingsFrom(map[string]any{
		"BatchSize": json.Number("100"), "BisectBatchOnFunctionError": true,
		"DestinationConfig":         map[string]any{"OnFailure": map[string]any{"Destination": queueARN}},
		"EventSourceArn":            stream,
		"FilterCriteria":            map[string]any{"Filters": []any{map[string]any{"Pattern": `{"eventName":["INSERT"]}`}}},
		"FunctionName":              "trigger",
		"FunctionResponseTypes":     []any{"ReportBatchItemFailures"},
		"MaximumRecordAgeInSeconds": json.Number("86400"), "MaximumRetryAttempts": json.Number("10"),
		"StartingPosition": "TRIM_HORIZON",
	})
	if err != nil {
		t.Fatal(err)
	}
	a := withAttrs(key("order-1", "0001"), map[string]dtypes.AttributeValue{
		"n": &dtypes.AttributeValueMemberN{Value: "1"}, "ok": &dtypes.AttributeValueMemberBOOL{Value: true},
		"m": &dtypes.AttributeValueMemberM{Value: map[string]dtypes.AttributeValue{"type": &dtypes.AttributeValueMemberS{Value: "order-created"}}},
		"l": &dtypes.AttributeValueMemberL{Value: []dtypes.AttributeValue{&dtypes.AttributeValueMemberS{Value: "x"}, &dtypes.AttributeValueMemberNULL{Value: true}}},
	})
	putItem(t, cfg, table, a)
	putItem(t, cfg, table, withAttrs(a, map[string]dtypes.AttributeValue{"n": &dtypes.AttributeValueMemberN{Value: "2"}}))
	putItem(t, cfg, table, withAttrs(key("order-2", "0001"), nil))
	if _, err := dynamodb.NewFromConfig(cfg).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &table, Key: key("order-1", "0001")}); err != nil {
		t.Fatal(err)
	}
	fn := &calls{}
	d, err := NewDynamoDB(context.Background(), cfg, s, fn, WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN the stream is drained, twice
	drain(t, d)
	drain(t, d)

	// THEN the trigger got the two inserts alone, in one event, each record as Lambda writes it
	got := fn.all()
	if len(got) != 1 {
		t.Fatalf("%d invocations, want 1", len(got))
	}
	ev := dynamoEvent(t, got[0])
	if len(ev.Records) != 2 {
		t.Fatalf("%d records, want the 2 inserts", len(ev.Records))
	}
	for i, r := range ev.Records {
		if r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.EventSourceArn != stream || r.AWSRegion != "us-east-1" ||
			r.EventID == "" || r.EventVersion == "" || r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || r.Change.SequenceNumber == "" ||
			r.Change.SizeBytes <= 0 || r.Change.OldImage != nil {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	var raw struct {
		Records []struct {
			DynamoDB map[string]json.RawMessage `json:"dynamodb"`
		} `json:"Records"`
	}
	json.Unmarshal(got[0], &raw)
	first := raw.Records[0].DynamoDB
	if k := string(first["Keys"]); k != `{"pk":{"S":"order-1"},"sk":{"S":"0001"}}` {
		t.Errorf("Keys %s", k)
	}
	var img map[string]any
	json.Unmarshal(first["NewImage"], &img)
	want := map[string]any{
		"pk": map[string]any{"S": "order-1"}, "sk": map[string]any{"S": "0001"}, "n": map[string]any{"N": "1"}, "ok": map[string]any{"BOOL": true},
		"m": map[string]any{"M": map[string]any{"type": map[string]any{"S": "order-created"}}},
		"l": map[string]any{"L": []any{map[string]any{"S": "x"}, map[string]any{"NULL": true}}},
	}
	if !reflect.DeepEqual(img, want) {
		t.Errorf("NewImage %s", first["NewImage"])
	}
	if ts := string(first["ApproximateCreationDateTime"]); !regexp.MustCompile(`^\d{10}$`).MatchString(ts) {
		t.Errorf("ApproximateCreationDateTime %s: want whole epoch seconds", ts)
	}
	if s := d.Stats(); s.Filtered != 2 || s.Succeeded != 2 {
		t.Errorf("stats %+v", s)
	}
	if bodies := receiveAll(t, cfg, queueURL); len(bodies) != 0 {
		t.Errorf("destination got %v", bodies)
	}
}

func TestDynamoDBModifyAndRemoveImages(t *testing.T) {
	// GIVEN an unfiltered mapping of a table that sees an insert, a modification and a removal
	cfg := moto.Config(t)
	table, stream := newStreamTable(t, cfg, dtypes.StreamViewTypeNewAndOldImages)
	a := withAttrs(key("k", "1"), map[string]dtypes.AttributeValue{"v": &dtypes.AttributeValueMemberS{Value: "old"}})
	putItem(t, cfg, table, a)
	putItem(t, cfg, table, withAttrs(a, map[string]dtypes.AttributeValue{"v": &dtypes.AttributeValueMemberS{Value: "new"}}))
	dynamodb.NewFromConfig(cfg).DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: &table, Key: key("k", "1")})
	fn := &calls{}
	d, err := NewDynamoDB(context.Background(), cfg, StreamSettings{EventSourceARN: stream, FunctionName: "f", BatchSize: 100, Enabled: true}, fn)
	if err != nil {
		t.Fatal(err)
	}

	// WHEN the stream is drained
	drain(t, d)

	// THEN each record has the images its event has
	ev := dynamoEvent(t, fn.all()[0])
	var got []string
	for _, r := range ev.Records {
		s := r.EventName
		if r.Change.OldImage != nil {
			s += " old=" + r.Change.OldImage["v"].String()
		}
		if r.Change.NewImage != nil {
			s += " new=" + r.Change.NewImage["v"].String()
		}
		got = append(got, s)
	}
	if want := []string{"INSERT new=old", "MODIFY old=old new=new", "REMOVE old=new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
}

func TestDynamoDBPartialFailureBisectsAndGivesUpTheFailedRecord(t *testing.T) {
	// GIVEN five inserts and a trigger that always reports the third failed; bisect, one retry, an SQS destination
	cfg := moto.Config(t)
	table, stream := newStreamTable(t, cfg, dtypes.StreamViewTypeNewImage)
	for i := 1; i <= 5; i++ {
		putItem(t, cfg, table, key("k", fmt.Sprint(i)))
	}
	queueURL, queueARN := newQueue(t, cfg, nil)
	var third string
	fn := &calls{handle: func(_ int, p []byte) ([]byte, error) {
		for _, r := range dynamoEvent(t, p).Records {
			if r.Change.Keys["sk"].String() == "3" {
				third = r.Change.SequenceNumber
				return failItem(third), nil
			}
		}
		return []byte(`{"batchItemFailures":[]}`), nil
	}}
	d, err := NewDynamoDB(context.Background(), cfg, StreamSettings{EventSourceARN: stream, FunctionName: "f", BatchSize: 100, Enabled: true,
		ReportBatchItemFailures: true, BisectBatchOnFunctionError: true, MaximumRetryAttempts: 1, OnFailureDestination: queueARN}, fn, WithLogf(t.Logf))
	if err != nil {
		t.Fatal(err)
	}

	// WHEN the stream is drained
	drain(t, d)

	// THEN the batch was split at the failed record, which alone was retried once and given up; the others
	// succeeded
	var sizes []int
	for _, p := range fn.all() {
		sizes = append(sizes, len(dynamoEvent(t, p).Records))
	}
	if want := []int{5, 3, 1, 1, 2}; !reflect.DeepEqual(sizes, want) {
		t.Errorf("batch sizes %v, want %v", sizes, want)
	}
	if s := d.Stats(); s.Succeeded != 4 || s.FailuresSent != 1 || s.Retries != 1 {
		t.Errorf("stats %+v", s)
	}
	bodies := receiveAll(t, cfg, queueURL)
	if len(bodies) != 1 {
		t.Fatalf("destination got %v", bodies)
	}
	var rec invocationRecord
	json.Unmarshal([]byte(bodies[0]), &rec)
	if b := rec.DDBStreamBatchInfo; rec.KinesisBatchInfo != nil || b == nil || b.StartSequenceNumber != third || b.EndSequenceNumber != third ||
		b.BatchSize != 1 || b.StreamARN != stream {
		t.Errorf("invocation record %s", bodies[0])
	}
}
