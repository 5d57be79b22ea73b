// Package batchwrite writes items to one DynamoDB table with BatchWriteItem, 25 at a time.
//
// Only what can succeed on retry is retried. Items DynamoDB leaves unprocessed are written again, with capped, jittered
// exponential backoff, up to a number of attempts. An error from BatchWriteItem itself is final: the SDK's retryer
// has already retried, within the call, what a retry can cure (throttling, 5xx answers, broken connections), so what
// remains — access denied, a ValidationException (an item over 400 KB, two requests for one key), a table that does
// not exist, the end of the context — fails the call's items at once, each with that error.
package batchwrite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Max is DynamoDB's limit of items per BatchWriteItem.
const Max = 25

// DefaultMaxAttempts is the number of times Put writes an item DynamoDB keeps leaving unprocessed, when not told.
const DefaultMaxAttempts = 8

// ErrUnprocessed is wrapped in the error of an item DynamoDB still left unprocessed after the last attempt.
var ErrUnprocessed = errors.New("DynamoDB left the item unprocessed")

// API is the part of DynamoDB it uses.
type API interface {
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Failure is an item Put did not write.
type Failure struct {
	// Index is the item's index in the items given to Put.
	Index int
	// Err says why: the error BatchWriteItem returned (DynamoDB's, wrapped), the context's error, or an error
	// wrapping ErrUnprocessed.
	Err error
}

// backoff spaces the attempts of items left unprocessed: a random wait of up to 2 s after the first, up to 4 s after
// the second, then 5 s.
var backoff = retry.NewExponentialJitterBackoff(5 * time.Second)

// delay is the wait after attempt left items unprocessed; a variable so that tests can shorten it.
var delay = func(attempt int) time.Duration {
	d, _ := backoff.BackoffDelay(attempt, nil)
	return d
}

// Put writes the items, which must have distinct keys (DynamoDB rejects a call with two requests for one key), and
// returns those it did not write, in index order, each with its reason. keyAttrs names the table's key attributes, to
// match what DynamoDB hands back unprocessed; maxAttempts bounds the writes of an item left unprocessed (default
// DefaultMaxAttempts).
//
// A chunk whose call fails does not stop the others; once the context ends, no call is made and every item not yet
// written fails with the context's error.
func Put(ctx context.Context, db API, table string, items []map[string]types.AttributeValue, keyAttrs []string, maxAttempts int) []Failure {
	if maxAttempts < 1 {
		maxAttempts = DefaultMaxAttempts
	}
	var failed []Failure
	for start := 0; start < len(items); start += Max {
		end := min(start+Max, len(items))
		for _, f := range putChunk(ctx, db, table, items[start:end], keyAttrs, maxAttempts) {
			f.Index += start
			failed = append(failed, f)
		}
	}
	return failed
}

// putChunk writes up to Max items, retrying those left unprocessed.
func putChunk(ctx context.Context, db API, table string, items []map[string]types.AttributeValue, keyAttrs []string, maxAttempts int) []Failure {
	left := make([]int, len(items))
	for i := range left {
		left[i] = i
	}
	failAll := func(err error) []Failure {
		failed := make([]Failure, len(left))
		for j, i := range left {
			failed[j] = Failure{Index: i, Err: err}
		}
		return failed
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			if attempt == 1 {
				return failAll(fmt.Errorf("not written to table %s: %w", table, err))
			}
			return failAll(fmt.Errorf("table %s: %w after %d attempts, then %w", table, ErrUnprocessed, attempt-1, err))
		}
		reqs := make([]types.WriteRequest, len(left))
		for j, i := range left {
			reqs[j] = types.WriteRequest{PutRequest: &types.PutRequest{Item: items[i]}}
		}
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return failAll(fmt.Errorf("write %d items to table %s: %w", len(reqs), table, err))
		}
		unprocessed := map[string]bool{}
		for _, u := range out.UnprocessedItems[table] {
			if u.PutRequest != nil {
				unprocessed[keyOf(u.PutRequest.Item, keyAttrs)] = true
			}
		}
		var still []int
		for _, i := range left {
			if unprocessed[keyOf(items[i], keyAttrs)] {
				still = append(still, i)
			}
		}
		left = still
		if len(left) == 0 {
			return nil
		}
		if attempt == maxAttempts {
			return failAll(fmt.Errorf("table %s: %w after %d attempts", table, ErrUnprocessed, attempt))
		}
		t := time.NewTimer(delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

// keyOf is an item's key as a string: its key attributes' values (string, number or binary), in order, each prefixed
// with its type and length.
func keyOf(item map[string]types.AttributeValue, keyAttrs []string) string {
	var k []byte
	for _, a := range keyAttrs {
		switch v := item[a].(type) {
		case *types.AttributeValueMemberS:
			k = fmt.Appendf(k, "S%d:%s", len(v.Value), v.Value)
		case *types.AttributeValueMemberN:
			k = fmt.Appendf(k, "N%d:%s", len(v.Value), v.Value)
		case *types.AttributeValueMemberB:
			k = fmt.Appendf(k, "B%d:%s", len(v.Value), v.Value)
		default:
			k = append(k, '-')
		}
	}
	return string(k)
}
