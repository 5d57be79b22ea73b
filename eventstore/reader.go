package eventstore

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
)

// PayloadReadAPI is the part of S3 that reads oversized events back.
type PayloadReadAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Reader reads the event store.
type Reader struct {
	// DB queries the table.
	DB dynamodb.QueryAPIClient
	// Payloads reads events stored by reference.
	Payloads PayloadReadAPI
	// Table is the event store table.
	Table string
	// Shards is the number of byTime write shards the writer used. Default DefaultShards.
	Shards int
	// PageSize limits the items of one Query page (DynamoDB also stops a page at 1 MB). Zero leaves it to DynamoDB.
	PageSize int32
}

// Entity calls fn with every event of one entity, in stream order, reading every page with strongly consistent
// reads. It stops at fn's first error.
func (r *Reader) Entity(ctx context.Context, partitionKey string, fn func(Event) error) error {
	cond := expression.Key(AttrPK).Equal(expression.Value(partitionKey))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return err
	}
	return r.query(ctx, &dynamodb.QueryInput{
		TableName: &r.Table, KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ConsistentRead: aws.Bool(true), ScanIndexForward: aws.Bool(true),
	}, fn)
}

// TimeRange calls fn with every event that arrived in [from, to], hour by hour; within an hour, the write shards are
// read in parallel (up to parallel at once), so fn is called from several goroutines at once — but every event of one
// entity comes from the same goroutine, in stream order. The byTime index is eventually consistent.
func (r *Reader) TimeRange(ctx context.Context, from, to time.Time, parallel int, fn func(Event) error) error {
	if to.Before(from) {
		return fmt.Errorf("time range: to %s is before from %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	shards := r.Shards
	if shards == 0 {
		shards = DefaultShards
	}
	if parallel < 1 {
		parallel = shards
	}
	for hour := from.UTC().Truncate(time.Hour); !hour.After(to); hour = hour.Add(time.Hour) {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(parallel)
		for s := range shards {
			g.Go(func() error { return r.Shard(gctx, hour, s, from, to, fn) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// Shard calls fn with the events of one hour's write shard that arrived in [from, to], in order.
func (r *Reader) Shard(ctx context.Context, hour time.Time, shard int, from, to time.Time, fn func(Event) error) error {
	cond := expression.Key(AttrTimePK).Equal(expression.Value(TimePK(hour, shard))).
		And(expression.Key(AttrTimeSK).Between(expression.Value(fmt.Sprintf("%013d", from.UnixMilli())), expression.Value(fmt.Sprintf("%013d~", to.UnixMilli()))))
	expr, err := expression.NewBuilder().WithKeyCondition(cond).Build()
	if err != nil {
		return err
	}
	return r.query(ctx, &dynamodb.QueryInput{
		TableName: &r.Table, IndexName: aws.String(TimeIndex), KeyConditionExpression: expr.KeyCondition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(), ScanIndexForward: aws.Bool(true),
	}, fn)
}

func (r *Reader) query(ctx context.Context, in *dynamodb.QueryInput, fn func(Event) error) error {
	if r.PageSize > 0 {
		in.Limit = aws.Int32(r.PageSize)
	}
	pages := dynamodb.NewQueryPaginator(r.DB, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("query %s: %w", r.Table, err)
		}
		var items []item
		if err := attributevalue.UnmarshalListOfMaps(page.Items, &items); err != nil {
			return fmt.Errorf("read items of %s: %w", r.Table, err)
		}
		for _, it := range items {
			data := []byte(it.Event)
			if it.PayloadRef != "" {
				if data, err = r.payload(ctx, it.PayloadRef); err != nil {
					return err
				}
			}
			if err := fn(it.event(data)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Reader) payload(ctx context.Context, ref string) ([]byte, error) {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(ref, "s3://"), "/")
	if !ok || r.Payloads == nil {
		return nil, fmt.Errorf("event stored by reference %s, and no payload reader is set", ref)
	}
	out, err := r.Payloads.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("read payload %s: %w", ref, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}
