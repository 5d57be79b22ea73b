// Package batchwrite writes items to one DynamoDB table with BatchWriteItem, 25 at a time, retrying the items
// DynamoDB leaves unprocessed with capped, jittered exponential backoff.
package batchwrite

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Max is DynamoDB's limit of items per BatchWriteItem.
const Max = 25

// API is the part of DynamoDB it uses.
type API interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Put writes the items (which must have distinct keys) and returns the indexes of those it could not write after
// maxAttempts tries each. keyAttrs names the table's key attributes, to match what DynamoDB hands back unprocessed.
func Put(ctx context.Context, db API, table string, items []map[string]types.AttributeValue, keyAttrs []string, maxAttempts int) []int {
	if maxAttempts < 1 {
		maxAttempts = 8
	}
	var failed []int
	for start := 0; start < len(items); start += Max {
		end := min(start+Max, len(items))
		for _, i := range putChunk(ctx, db, table, items[start:end], keyAttrs, maxAttempts) {
			failed = append(failed, start+i)
		}
	}
	return failed
}

func putChunk(ctx context.Context, db API, table string, items []map[string]types.AttributeValue, keyAttrs []string, attempts int) []int {
	backoff := retry.NewExponentialJitterBackoff(5 * time.Second)
	left := make([]int, len(items))
	for i := range left {
		left[i] = i
	}
	keyOf := func(item map[string]types.AttributeValue) string {
		k := ""
		for _, a := range keyAttrs {
			if s, ok := item[a].(*types.AttributeValueMemberS); ok {
				k += s.Value
			}
			k += "\x00"
		}
		return k
	}
	for attempt := 1; len(left) > 0 && attempt <= attempts; attempt++ {
		reqs := make([]types.WriteRequest, len(left))
		for j, i := range left {
			reqs[j] = types.WriteRequest{PutRequest: &types.PutRequest{Item: items[i]}}
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err == nil {
			unprocessed := map[string]bool{}
			for _, u := range out.UnprocessedItems[table] {
				if u.PutRequest != nil {
					unprocessed[keyOf(u.PutRequest.Item)] = true
				}
			}
			var still []int
			for _, i := range left {
				if unprocessed[keyOf(items[i])] {
					still = append(still, i)
				}
			}
			left = still
			if len(left) == 0 {
				return nil
			}
		}
		if attempt < attempts {
			delay, _ := backoff.BackoffDelay(attempt, err)
			select {
			case <-ctx.Done():
				return left
			case <-time.After(delay):
			}
		}
	}
	return left
}
