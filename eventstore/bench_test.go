package eventstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/test/moto"
)

// counting counts the DynamoDB calls of a client.
func counting(calls *atomic.Int64) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("Count", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				calls.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
		})
	}
}

// BenchmarkWriter stores 1,000 events of 1 KB in moto DynamoDB: through the writer (BatchWriteItem, 25 per call)
// against one PutItem per event, in the same run. It reports DynamoDB calls per 1,000 events and events per second.
func BenchmarkWriter(b *testing.B) {
	const n = 1000
	batch := make([]events.KinesisEventRecord, n)
	for i := range n {
		batch[i] = record(i, fmt.Sprintf("entity-%d", i%100), fmt.Sprintf(`,"pad":"%0900d"`, i)) // about 1 KB
	}
	for _, mode := range []string{"writer", "putitem"} {
		b.Run(mode, func(b *testing.B) {
			s := newStore(b)
			var calls atomic.Int64
			db := dynamodb.NewFromConfig(moto.Config(b), counting(&calls))
			w := &eventstore.Writer{DB: db, Table: s.table, Payloads: s.s3, Bucket: s.bucket, Logger: s.writer.Logger}
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				if mode == "writer" {
					if resp, _ := w.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
						b.Fatal(resp.BatchItemFailures)
					}
					continue
				}
				for _, rec := range batch {
					it := map[string]any{"pk": rec.Kinesis.PartitionKey, "sk": eventstore.Position(rec.Kinesis.SequenceNumber, 0), "event": string(rec.Kinesis.Data)}
					av, _ := attributevalue.MarshalMap(it)
					if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &s.table, Item: av}); err != nil {
						b.Fatal(err)
					}
				}
			}
			elapsed := time.Since(start)
			b.ReportMetric(float64(calls.Load())/float64(b.N), "calls/1000-events")
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkBurst writes a burst of 10,000 events with the same arrival time (and the same event timestamp) for
// 10,000 entities, and reports how many distinct partition-key values they use in the table and in the byTime index.
func BenchmarkBurst(b *testing.B) {
	for range b.N {
		s := newStore(b)
		batch := make([]events.KinesisEventRecord, 10000)
		for i := range batch {
			batch[i] = record(i, fmt.Sprintf("order-%d", i), "")
			batch[i].Kinesis.ApproximateArrivalTimestamp.Time = base
		}
		if resp, _ := s.writer.Handle(context.Background(), events.KinesisEvent{Records: batch}); len(resp.BatchItemFailures) > 0 {
			b.Fatal(resp.BatchItemFailures)
		}
		pks, tpks := map[string]bool{}, map[string]bool{}
		items := 0
		pages := dynamodb.NewScanPaginator(s.db, &dynamodb.ScanInput{TableName: &s.table})
		for pages.HasMorePages() {
			page, err := pages.NextPage(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			for _, it := range page.Items {
				var k struct {
					PK  string `dynamodbav:"pk"`
					TPK string `dynamodbav:"tpk"`
				}
				if err := attributevalue.UnmarshalMap(it, &k); err != nil {
					b.Fatal(err)
				}
				pks[k.PK], tpks[k.TPK] = true, true
				items++
			}
		}
		if items != 10000 {
			b.Fatalf("%d items stored, want 10,000", items)
		}
		b.ReportMetric(float64(len(pks)), "table-partition-keys")
		b.ReportMetric(float64(len(tpks)), "index-partition-keys")
	}
}
