package eventstore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// TestWriterAgainstDynamoDBsRules writes through a client that answers as DynamoDB does where moto does not: two
// requests for one key in a BatchWriteItem are a ValidationException (moto writes both), and the first call leaves
// the items of one entity unprocessed (moto never does).
func TestWriterAgainstDynamoDBsRules(t *testing.T) {
	// GIVEN a writer whose DynamoDB client checks duplicate keys and leaves thing-1's items unprocessed on the first call
	s := newStore(t)
	cfg := moto.Config(t)
	asAWS := fault.DynamoDBAsAWS(cfg)
	throttled := fault.Unprocessed(func(call int, _ string, r types.WriteRequest) bool {
		return call == 1 && r.PutRequest.Item[eventstore.AttrPK].(*types.AttributeValueMemberS).Value == "thing-1"
	})
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, asAWS.Install, throttled.Install) })
	w := &eventstore.Writer{DB: db, Table: s.table, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}

	// WHEN a batch holding records delivered twice (Kinesis redelivers after a retry) is written
	in := batchOf(0, 1, 2, 1, 0, 3)

	// THEN no record fails, each is stored once, in two calls: the second writes what the first left unprocessed
	first, err := w.Write(context.Background(), in.Records)
	if first != -1 || err != nil {
		t.Fatalf("Write: record %d failed: %v", first, err)
	}
	if n := s.count(t); n != 4 {
		t.Errorf("%d items stored, want 4", n)
	}
	for _, n := range []int{0, 1, 2, 3} {
		if it := s.stored(t, in.Records[n]); it["event"].(*types.AttributeValueMemberS).Value != string(in.Records[n].Kinesis.Data) {
			t.Errorf("record %d stored as %v", n, it["event"])
		}
	}
	if asAWS.Applied("BatchWriteItem") != 0 || throttled.Applied("BatchWriteItem") != 1 {
		t.Errorf("%d calls refused for duplicate keys, %d calls left items unprocessed; want 0 and 1",
			asAWS.Applied("BatchWriteItem"), throttled.Applied("BatchWriteItem"))
	}
}
