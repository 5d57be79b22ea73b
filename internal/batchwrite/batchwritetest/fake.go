// Package batchwritetest is a fake of DynamoDB's BatchWriteItem for the tests of package batchwrite and its callers.
package batchwritetest

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// Fake is an in-memory table that answers BatchWriteItem (it implements batchwrite.API). Like DynamoDB, it rejects a
// call with a ValidationException, writing nothing, when it has no requests, more than 25, a request that is not a
// put of an item with every key attribute, or two requests for one key (which moto lets through). Fail and
// Unprocessed make it fail a call or leave items unprocessed on demand. It is safe for concurrent use.
type Fake struct {
	// KeyAttrs names the table's key attributes (string attributes).
	KeyAttrs []string
	// Fail, when set, is asked about every valid call (numbered from 1): a non-nil error is returned as the call's
	// error and nothing is written.
	Fail func(call int, items []map[string]types.AttributeValue) error
	// Unprocessed, when set, picks the items of a valid call (numbered from 1) that the call hands back unprocessed
	// instead of writing.
	Unprocessed func(call int, item map[string]types.AttributeValue) bool

	mu    sync.Mutex
	calls int
	keys  []string
	items map[string]map[string]types.AttributeValue
}

// APIError is an error as the SDK returns it for DynamoDB's error code ("ValidationException",
// "AccessDeniedException", …) and message.
func APIError(code, message string) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "BatchWriteItem",
		Err: &smithy.GenericAPIError{Code: code, Message: message, Fault: smithy.FaultClient}}
}

// BatchWriteItem checks the call, then writes the items that Fail and Unprocessed let through.
func (f *Fake) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if err := ctx.Err(); err != nil {
		return nil, &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "BatchWriteItem", Err: err}
	}
	if len(in.RequestItems) != 1 {
		return nil, APIError("ValidationException", fmt.Sprintf("the fake writes one table per call, not %d", len(in.RequestItems)))
	}
	var table string
	var reqs []types.WriteRequest
	for t, r := range in.RequestItems {
		table, reqs = t, r
	}
	if len(reqs) == 0 || len(reqs) > 25 {
		return nil, APIError("ValidationException", fmt.Sprintf("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "+
			"Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1] (%d requests)", len(reqs)))
	}
	seen := map[string]bool{}
	items := make([]map[string]types.AttributeValue, len(reqs))
	for i, r := range reqs {
		if r.PutRequest == nil {
			return nil, APIError("ValidationException", "the fake takes put requests only")
		}
		key, ok := f.key(r.PutRequest.Item)
		if !ok {
			return nil, APIError("ValidationException", "One of the required keys was not given a value")
		}
		if seen[key] {
			return nil, APIError("ValidationException", "Provided list of item keys contains duplicates")
		}
		seen[key] = true
		items[i] = r.PutRequest.Item
	}
	if f.Fail != nil {
		if err := f.Fail(f.calls, items); err != nil {
			return nil, err
		}
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for _, it := range items {
		if f.Unprocessed != nil && f.Unprocessed(f.calls, it) {
			out.UnprocessedItems[table] = append(out.UnprocessedItems[table], types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			continue
		}
		key, _ := f.key(it)
		if f.items == nil {
			f.items = map[string]map[string]types.AttributeValue{}
		}
		if _, ok := f.items[key]; !ok {
			f.keys = append(f.keys, key)
		}
		f.items[key] = it
	}
	return out, nil
}

// Calls is the number of calls made so far, rejected ones included.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Items is what the table holds, in the order the keys were first written.
func (f *Fake) Items() []map[string]types.AttributeValue {
	f.mu.Lock()
	defer f.mu.Unlock()
	items := make([]map[string]types.AttributeValue, len(f.keys))
	for i, k := range f.keys {
		items[i] = f.items[k]
	}
	return items
}

// S is an item's string attribute, or "".
func S(item map[string]types.AttributeValue, attr string) string {
	if s, ok := item[attr].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func (f *Fake) key(item map[string]types.AttributeValue) (string, bool) {
	k := ""
	for _, a := range f.KeyAttrs {
		s, ok := item[a].(*types.AttributeValueMemberS)
		if !ok {
			return "", false
		}
		k += fmt.Sprintf("%d:%s", len(s.Value), s.Value)
	}
	return k, true
}
