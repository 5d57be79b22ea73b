package observer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Watch names the data sets of a bucket: every object under Prefix belongs to the data set of its directory (the key
// up to its last "/"), or, with Depth, of its first Depth path segments after Prefix.
type Watch struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	Depth  int    `json:"depth,omitempty"`
}

// DataSetOf returns the data set of an object, "" when no watch covers it.
func DataSetOf(watches []Watch, bucket, key string) string {
	for _, w := range watches {
		if w.Bucket != bucket || !strings.HasPrefix(key, w.Prefix) {
			continue
		}
		rest := key[len(w.Prefix):]
		if w.Depth > 0 {
			parts := strings.SplitN(rest, "/", w.Depth+1)
			if len(parts) <= w.Depth {
				return "" // not deep enough to belong to a data set
			}
			return bucket + "/" + w.Prefix + strings.Join(parts[:w.Depth], "/") + "/"
		}
		if i := strings.LastIndex(key, "/"); i >= 0 {
			return bucket + "/" + key[:i+1]
		}
		return bucket + "/"
	}
	return ""
}

// Monitor counts created objects into the counter table.
type Monitor struct {
	Settings
	Watches []Watch
}

// Handle counts the batch's ObjectCreated records (Put, Post, Copy, CompleteMultipartUpload) per data set — one update
// per data set — and starts an observation of each data set that has none running.
func (m *Monitor) Handle(ctx context.Context, in events.S3Event) error {
	counts := map[string]int64{}
	var order []string
	for _, r := range in.Records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(strings.ReplaceAll(r.S3.Object.Key, "+", " ")) // S3 event keys are URL-encoded
		if err != nil {
			key = r.S3.Object.Key
		}
		ds := DataSetOf(m.Watches, r.S3.Bucket.Name, key)
		if ds == "" {
			continue
		}
		if _, ok := counts[ds]; !ok {
			order = append(order, ds)
		}
		counts[ds]++
	}
	for _, ds := range order {
		c, err := m.count(ctx, ds, counts[ds])
		if err != nil {
			return err
		}
		if !c.Observing {
			if _, err := m.Start(ctx, ds); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *Monitor) count(ctx context.Context, ds string, n int64) (Counter, error) {
	now := m.now().UnixMilli()
	upd := expression.Add(expression.Name("objects"), expression.Value(n)).
		Set(expression.Name("lastChange"), expression.Value(now)).
		Set(expression.Name("firstChange"), expression.IfNotExists(expression.Name("firstChange"), expression.Value(now)))
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return Counter{}, err
	}
	out, err := m.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &m.Table, Key: key(ds), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return Counter{}, fmt.Errorf("count %d objects of %s: %w", n, ds, err)
	}
	return unmarshalCounter(out.Attributes)
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
