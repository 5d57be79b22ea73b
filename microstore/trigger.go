package microstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// HistoryFunc handles the whole history of one key, oldest first, after new events arrived for it.
type HistoryFunc func(ctx context.Context, key string, history []Item) error

// Trigger loads histories for the service's function.
type Trigger struct {
	// DB queries the table.
	DB dynamodb.QueryAPIClient
	// Table is the micro event store table.
	Table string
	// PageSize limits the items of one Query page. Zero leaves it to DynamoDB (1 MB pages).
	PageSize int32
	// Logger logs failures. Default slog.Default().
	Logger *slog.Logger
}

// Handler returns the Lambda handler for the table's stream: for each key with an INSERT in the batch, in order of
// first appearance, it loads the key's history once and calls fn. At the first failure it stops and reports that
// key's first record, so Lambda retries from there.
func (t *Trigger) Handler(fn HistoryFunc) func(ctx context.Context, in events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	log := t.Logger
	if log == nil {
		log = slog.Default()
	}
	return func(ctx context.Context, in events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
		var keys []string
		first := map[string]string{} // key -> sequence number of its first record in the batch
		for _, rec := range in.Records {
			if rec.EventName != "INSERT" {
				continue
			}
			key := rec.Change.Keys[AttrKey].String()
			if _, ok := first[key]; !ok {
				first[key] = rec.Change.SequenceNumber
				keys = append(keys, key)
			}
		}
		for _, key := range keys {
			history, err := t.History(ctx, key)
			if err == nil {
				err = fn(ctx, key, history)
			}
			if err != nil {
				log.WarnContext(ctx, "history not handled", "key", key, "error", err)
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: first[key]})
				return resp, nil
			}
		}
		return resp, nil
	}
}

// History returns every event of the key, oldest first: every page, strongly consistent.
func (t *Trigger) History(ctx context.Context, key string) ([]Item, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(AttrKey).Equal(expression.Value(key))).Build()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName: &t.Table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(true),
	}
	if t.PageSize > 0 {
		in.Limit = aws.Int32(t.PageSize)
	}
	var history []Item
	pages := dynamodb.NewQueryPaginator(t.DB, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("load the history of %s: %w", key, err)
		}
		var items []Item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, err
		}
		history = append(history, items...)
	}
	return history, nil
}
