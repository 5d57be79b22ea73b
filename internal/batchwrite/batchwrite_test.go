package batchwrite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/internal/batchwrite/batchwritetest"
)

var keyAttrs = []string{"pk", "sk"}

func itemsOf(n int) []map[string]types.AttributeValue {
	items := make([]map[string]types.AttributeValue, n)
	for i := range items {
		items[i] = map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("thing-%d", i%7)},
			"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%04d", i)},
		}
	}
	return items
}

func index(item map[string]types.AttributeValue) int {
	var i int
	fmt.Sscanf(batchwritetest.S(item, "sk"), "%d", &i)
	return i
}

// noWait replaces the backoff for a test and records the attempts after which Put waited.
func noWait(t *testing.T) *[]int {
	t.Helper()
	var mu sync.Mutex
	var waits []int
	old := delay
	delay = func(attempt int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, attempt)
		return 0
	}
	t.Cleanup(func() { delay = old })
	return &waits
}

func TestItemsLeftUnprocessedAreRetriedUntilWritten(t *testing.T) {
	waits := noWait(t)
	// Every third item is left unprocessed the first two times it is sent.
	sent := map[int]int{}
	db := &batchwritetest.Fake{KeyAttrs: keyAttrs, Unprocessed: func(_ int, item map[string]types.AttributeValue) bool {
		i := index(item)
		sent[i]++
		return i%3 == 0 && sent[i] <= 2
	}}
	if failed := Put(context.Background(), db, "events", itemsOf(60), keyAttrs, 0); len(failed) != 0 {
		t.Fatalf("failed %+v, want none", failed)
	}
	if got := len(db.Items()); got != 60 {
		t.Errorf("%d items written, want 60", got)
	}
	// Three chunks (25, 25, 10), each written in three calls, waiting after the first two.
	if db.Calls() != 9 || fmt.Sprint(*waits) != "[1 2 1 2 1 2]" {
		t.Errorf("%d calls, waits after attempts %v; want 9 calls, waits after attempts 1 and 2 of each chunk", db.Calls(), *waits)
	}
	for i, n := range sent {
		if want := map[bool]int{true: 3, false: 1}[i%3 == 0]; n != want {
			t.Errorf("item %d sent %d times, want %d", i, n, want)
		}
	}
}

func TestAnErrorOfTheCallIsFinalAndReportedWithEachItem(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
	}{
		{"access denied", batchwritetest.APIError("AccessDeniedException",
			"User: arn:aws:sts::123456789012:assumed-role/writer/fn is not authorized to perform: dynamodb:BatchWriteItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/events"),
			"AccessDeniedException"},
		{"item too large", batchwritetest.APIError("ValidationException", "Item size has exceeded the maximum allowed size"), "ValidationException"},
		{"no table", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "BatchWriteItem",
			Err: &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}}, "ResourceNotFoundException"},
		{"throttled beyond the SDK's retries", batchwritetest.APIError("ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded"),
			"ProvisionedThroughputExceededException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits := noWait(t)
			db := &batchwritetest.Fake{KeyAttrs: keyAttrs, Fail: func(int, []map[string]types.AttributeValue) error { return tt.err }}
			failed := Put(context.Background(), db, "events", itemsOf(10), keyAttrs, 0)
			if db.Calls() != 1 || len(*waits) != 0 {
				t.Errorf("%d calls and %d waits, want exactly one call: an error of the call is not retried", db.Calls(), len(*waits))
			}
			if len(failed) != 10 {
				t.Fatalf("%d items failed, want all 10", len(failed))
			}
			for i, f := range failed {
				var apiErr smithy.APIError
				if f.Index != i || !errors.Is(f.Err, tt.err) || !errors.As(f.Err, &apiErr) || apiErr.ErrorCode() != tt.code ||
					!strings.Contains(f.Err.Error(), "table events") || errors.Is(f.Err, ErrUnprocessed) {
					t.Errorf("failure %d: index %d, error %v; want index %d and DynamoDB's %s naming the table", i, f.Index, f.Err, i, tt.code)
				}
			}
		})
	}
}

func TestAnErrorAfterItemsWereLeftUnprocessedFailsThemWithIt(t *testing.T) {
	noWait(t)
	denied := batchwritetest.APIError("AccessDeniedException", "not authorized")
	db := &batchwritetest.Fake{KeyAttrs: keyAttrs,
		Unprocessed: func(call int, item map[string]types.AttributeValue) bool { return call == 1 && index(item) >= 20 },
		Fail: func(call int, _ []map[string]types.AttributeValue) error {
			if call == 2 {
				return denied
			}
			return nil
		}}
	failed := Put(context.Background(), db, "events", itemsOf(25), keyAttrs, 0)
	if db.Calls() != 2 || len(failed) != 5 || len(db.Items()) != 20 {
		t.Fatalf("%d calls, %d written, failed %+v; want 2 calls, 20 written, items 20 to 24 failed", db.Calls(), len(db.Items()), failed)
	}
	for j, f := range failed {
		if f.Index != 20+j || !errors.Is(f.Err, denied) {
			t.Errorf("failure %+v, want item %d with the access denied error", f, 20+j)
		}
	}
}

func TestItemsLeftUnprocessedEveryTimeFailAfterTheLastAttempt(t *testing.T) {
	waits := noWait(t)
	db := &batchwritetest.Fake{KeyAttrs: keyAttrs, Unprocessed: func(_ int, item map[string]types.AttributeValue) bool {
		return index(item) == 3 || index(item) == 7
	}}
	failed := Put(context.Background(), db, "events", itemsOf(10), keyAttrs, 3)
	if db.Calls() != 3 || fmt.Sprint(*waits) != "[1 2]" || len(db.Items()) != 8 {
		t.Errorf("%d calls, waits after %v, %d written; want 3 calls, waits after attempts 1 and 2, 8 written", db.Calls(), *waits, len(db.Items()))
	}
	if len(failed) != 2 || failed[0].Index != 3 || failed[1].Index != 7 {
		t.Fatalf("failed %+v, want items 3 and 7", failed)
	}
	for _, f := range failed {
		if !errors.Is(f.Err, ErrUnprocessed) || f.Err.Error() != "table events: DynamoDB left the item unprocessed after 3 attempts" {
			t.Errorf("item %d: error %q, want ErrUnprocessed after 3 attempts", f.Index, f.Err)
		}
	}
}

func TestTheContextsEndStopsTheRetries(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	old := delay
	delay = func(int) time.Duration { cancel(); return 20 * time.Second } // cancelled while Put waits
	t.Cleanup(func() { delay = old })
	db := &batchwritetest.Fake{KeyAttrs: keyAttrs, Unprocessed: func(_ int, item map[string]types.AttributeValue) bool { return index(item) == 1 }}
	start := time.Now()
	failed := Put(ctx, db, "events", itemsOf(30), keyAttrs, 0)
	if time.Since(start) > 5*time.Second {
		t.Errorf("Put waited %s after the context was cancelled", time.Since(start))
	}
	// One call: the first chunk's; item 1 left unprocessed, then nothing more.
	if db.Calls() != 1 || len(failed) != 6 || failed[0].Index != 1 || failed[1].Index != 25 {
		t.Fatalf("%d calls, failed %+v; want 1 call and items 1 and 25 to 29 failed", db.Calls(), failed)
	}
	if f := failed[0]; !errors.Is(f.Err, ErrUnprocessed) || !errors.Is(f.Err, context.Canceled) {
		t.Errorf("item 1: %v, want unprocessed, then the context's end", f.Err)
	}
	for _, f := range failed[1:] {
		if !errors.Is(f.Err, context.Canceled) || errors.Is(f.Err, ErrUnprocessed) {
			t.Errorf("item %d: %v, want the context's end", f.Index, f.Err)
		}
	}
}

func TestDuplicateKeysInOneCallAreRejected(t *testing.T) {
	// The fake, as DynamoDB, rejects the whole call: callers must merge the requests for one key.
	noWait(t)
	items := itemsOf(3)
	items[2] = items[0]
	db := &batchwritetest.Fake{KeyAttrs: keyAttrs}
	failed := Put(context.Background(), db, "events", items, keyAttrs, 0)
	var apiErr smithy.APIError
	if db.Calls() != 1 || len(failed) != 3 || !errors.As(failed[0].Err, &apiErr) || apiErr.ErrorCode() != "ValidationException" ||
		!strings.Contains(failed[0].Err.Error(), "duplicates") {
		t.Errorf("%d calls, failed %+v; want one call, every item failed with the ValidationException", db.Calls(), failed)
	}
}

func TestKeysOfEveryTypeAreMatched(t *testing.T) {
	// Items whose keys differ only by type, or by where one value ends, are different items.
	items := []map[string]types.AttributeValue{
		{"h": &types.AttributeValueMemberS{Value: "1"}, "r": &types.AttributeValueMemberS{Value: "2"}},
		{"h": &types.AttributeValueMemberN{Value: "1"}, "r": &types.AttributeValueMemberS{Value: "2"}},
		{"h": &types.AttributeValueMemberB{Value: []byte("1")}, "r": &types.AttributeValueMemberS{Value: "2"}},
		{"h": &types.AttributeValueMemberS{Value: "12"}, "r": &types.AttributeValueMemberS{Value: ""}},
		{"h": &types.AttributeValueMemberS{Value: "1\x00"}, "r": &types.AttributeValueMemberS{Value: "2"}},
	}
	seen := map[string]int{}
	for i, it := range items {
		k := keyOf(it, []string{"h", "r"})
		if j, ok := seen[k]; ok {
			t.Errorf("items %d and %d have one key %q", j, i, k)
		}
		seen[k] = i
	}
}
