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
	// Bucket is the watched bucket.
	Bucket string `json:"bucket"`
	// Prefix limits the watch to keys under it.
	Prefix string `json:"prefix"`
	// Depth, when set, makes a data set of the first Depth path segments after Prefix.
	Depth int `json:"depth,omitempty"`
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
	// Watches are the watched data sets.
	Watches []Watch
}

// Object is one created object.
type Object struct {
	// Bucket and Key name the object.
	Bucket, Key string
}

// HandleS3 counts the ObjectCreated records (Put, Post, Copy, CompleteMultipartUpload) of an S3 notification.
func (m *Monitor) HandleS3(ctx context.Context, in events.S3Event) error {
	return m.Count(ctx, objectsOfS3(in.Records))
}

// HandleSQS counts the objects of a batch of queued notifications: EventBridge "Object Created" events (what the
// observer construct wires) or S3 notifications. A message that is neither is logged and dropped.
func (m *Monitor) HandleSQS(ctx context.Context, in events.SQSEvent) (events.SQSEventResponse, error) {
	var objects []Object
	for _, msg := range in.Records {
		var eb struct {
			DetailType string `json:"detail-type"`
			Detail     struct {
				Bucket struct{ Name string } `json:"bucket"`
				Object struct{ Key string }  `json:"object"`
			} `json:"detail"`
		}
		var n events.S3Event
		switch {
		case json.Unmarshal([]byte(msg.Body), &eb) == nil && eb.DetailType == "Object Created":
			objects = append(objects, Object{eb.Detail.Bucket.Name, eb.Detail.Object.Key})
		case json.Unmarshal([]byte(msg.Body), &n) == nil && len(n.Records) > 0:
			objects = append(objects, objectsOfS3(n.Records)...)
		}
	}
	if err := m.Count(ctx, objects); err != nil {
		// Counting is by data set: the whole batch comes again (a count may then be repeated, which only delays
		// completion by a reading).
		failures := make([]events.SQSBatchItemFailure, len(in.Records))
		for i, msg := range in.Records {
			failures[i] = events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId}
		}
		return events.SQSEventResponse{BatchItemFailures: failures}, nil
	}
	return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}, nil
}

func objectsOfS3(records []events.S3EventRecord) []Object {
	var out []Object
	for _, r := range records {
		if !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(strings.ReplaceAll(r.S3.Object.Key, "+", " ")) // S3 notification keys are URL-encoded
		if err != nil {
			key = r.S3.Object.Key
		}
		out = append(out, Object{r.S3.Bucket.Name, key})
	}
	return out
}

// Count adds the objects to their data sets' counters — one update per data set — and starts an observation of each
// data set that has none running.
func (m *Monitor) Count(ctx context.Context, objects []Object) error {
	counts := map[string]int64{}
	var order []string
	for _, o := range objects {
		ds := DataSetOf(m.Watches, o.Bucket, o.Key)
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
