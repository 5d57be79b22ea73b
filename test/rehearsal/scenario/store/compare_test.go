package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/microstore"
)

// knownDifferences are the fields in which a replayed record differs from the record Lambda's Kinesis event source
// mapping delivers for the same event, and why.
var knownDifferences = map[string]string{
	"invokeIdentityArn":      "Lambda gives the subscription's execution role; the replay invokes as the operator and leaves it empty",
	"kinesis.encryptionType": "Lambda gives an encrypted stream's encryption (KMS; moto leaves it out); the lake does not keep it, so the replay leaves it out",
}

// difference is one field in which two records differ.
type difference struct {
	field          string
	lambda, replay any
}

func (d difference) String() string {
	return fmt.Sprintf("%s: the stream's subscription delivered %v, the replay sent %v", d.field, d.lambda, d.replay)
}

// shapeDiff compares, field by field, a record the stream's subscription delivered with one a replay sent: every
// field of either must be in both with the same value; the arrival time is compared in whole milliseconds, as the
// stream records it (Lambda writes three decimals, aws-lambda-go the float64's digits).
func shapeDiff(t *testing.T, delivered, replayed json.RawMessage) []difference {
	t.Helper()
	lf, rf := flatten(t, delivered), flatten(t, replayed)
	fields := map[string]bool{}
	for k := range lf {
		fields[k] = true
	}
	for k := range rf {
		fields[k] = true
	}
	var out []difference
	for _, k := range sortedKeys(fields) {
		l, lok := lf[k]
		r, rok := rf[k]
		if k == "kinesis.approximateArrivalTimestamp" && lok && rok {
			if arrivalMillis(t, l) == arrivalMillis(t, r) {
				continue
			}
		} else if lok == rok && reflect.DeepEqual(l, r) {
			continue
		}
		if !lok {
			l = "(no field)"
		}
		if !rok {
			r = "(no field)"
		}
		out = append(out, difference{field: k, lambda: l, replay: r})
	}
	return out
}

// flatten decodes a JSON object into its leaves by dotted path.
func flatten(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("record %s: %v", raw, err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, x := range m {
				walk(prefix+k+".", x)
			}
			return
		}
		out[strings.TrimSuffix(prefix, ".")] = v
	}
	walk("", v)
	return out
}

func arrivalMillis(t *testing.T, v any) int64 {
	t.Helper()
	var ts events.SecondsEpochTime
	if err := ts.UnmarshalJSON([]byte(fmt.Sprint(v))); err != nil {
		t.Fatalf("approximateArrivalTimestamp %v: %v", v, err)
	}
	return lake.ArrivalMillis(ts)
}

// record is the Kinesis record the stream's subscription delivered for an event.
func (f *flow) record(t *testing.T, id string) events.KinesisEventRecord {
	t.Helper()
	var rec events.KinesisEventRecord
	raw, ok := f.delivered[id]
	if !ok {
		t.Fatalf("the stream's subscription did not deliver event %s", id)
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

func ids(evs []event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func storedIDs(evs []eventstore.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// orderDiff says how got differs from want, a key's event ids in order: missing, extra or repeated ids, or the first
// place where the order differs; "" when they are the same.
func orderDiff(want, got []string) string {
	if slices.Equal(want, got) {
		return ""
	}
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	var problems []string
	for _, id := range want {
		switch count[id] {
		case 0:
			problems = append(problems, id+" missing")
		case 1:
		default:
			problems = append(problems, fmt.Sprintf("%s %d times", id, count[id]))
		}
		delete(count, id)
	}
	for _, id := range sortedKeys(count) {
		problems = append(problems, id+" unexpected")
	}
	if len(problems) == 0 {
		for i := range want {
			if want[i] != got[i] {
				problems = append(problems, fmt.Sprintf("out of order from position %d: got %s, want %s", i, got[i], want[i]))
				break
			}
		}
	}
	return fmt.Sprintf("%d events, want %d: %s", len(got), len(want), strings.Join(problems, "; "))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// microIDs queries a micro store table for a key's items, in the table's order, and returns their event ids.
func microIDs(ctx context.Context, cfg aws.Config, table, key string) ([]string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(microstore.AttrKey).Equal(expression.Value(key))).Build()
	if err != nil {
		return nil, err
	}
	pages := dynamodb.NewQueryPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.QueryInput{TableName: &table, ConsistentRead: aws.Bool(true),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values()})
	var out []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		var items []microstore.Item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.ID)
		}
	}
	return out, nil
}

// perKey calls read for every key, a few at a time, and returns what it read by key; the first error fails the test.
func perKey[T any](t *testing.T, keys []string, read func(ctx context.Context, key string) (T, error)) map[string]T {
	t.Helper()
	var mu sync.Mutex
	out := make(map[string]T, len(keys))
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(8)
	for _, key := range keys {
		g.Go(func() error {
			v, err := read(ctx, key)
			if err != nil {
				return fmt.Errorf("key %s: %w", key, err)
			}
			mu.Lock()
			out[key] = v
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// clip lists the first ten of ids.
func clip(ids []string) string {
	if len(ids) > 10 {
		return strings.Join(ids[:10], ", ") + ", …"
	}
	return strings.Join(ids, ", ")
}

// countItems counts a table's items with a paginated Scan of Select COUNT.
func countItems(t *testing.T, cfg aws.Config, table string) int {
	t.Helper()
	var n int
	pages := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: &table, Select: dtypes.SelectCount})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(page.Count)
	}
	return n
}

// s3Client is an S3 client of cfg with path-style addressing, as the rehearsal's endpoint needs.
func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// listKeys lists a bucket's keys under a prefix.
func listKeys(t *testing.T, cfg aws.Config, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(s3Client(cfg), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
