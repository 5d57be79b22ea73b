package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/test/moto"
)

func TestReplayFromTheEventStoreReadsEveryWriteShard(t *testing.T) {
	// GIVEN an event store written with 32 write shards per hour (its construct's Shards), 96 events in one hour
	cfg := moto.Config(t)
	ctx := context.Background()
	db := dynamodb.NewFromConfig(cfg)
	table := fmt.Sprintf("store-%d", time.Now().UnixNano())
	str := types.ScalarAttributeTypeS
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: &table, BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str}, {AttributeName: aws.String("sk"), AttributeType: str},
			{AttributeName: aws.String("tpk"), AttributeType: str}, {AttributeName: aws.String("tsk"), AttributeType: str}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String(eventstore.TimeIndex),
			KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("tpk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("tsk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
	}); err != nil {
		t.Fatal(err)
	}
	w := &eventstore.Writer{DB: db, Table: table, Shards: 32, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	hour := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	var batch events.KinesisEvent
	for n := range 96 {
		seq := fmt.Sprintf("4959%052d", n)
		batch.Records = append(batch.Records, events.KinesisEventRecord{EventID: "shardId-000000000000:" + seq, Kinesis: events.KinesisRecord{
			SequenceNumber: seq, PartitionKey: fmt.Sprintf("k-%d", n), ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: hour.Add(time.Duration(n) * time.Second)},
			Data: []byte(fmt.Sprintf(`{"id":"e%d","type":"t","partitionKey":"k-%d"}`, n, n))}})
	}
	if resp, err := w.Handle(ctx, batch); err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("write: %v %+v", err, resp.BatchItemFailures)
	}
	moto.LambdaWithoutDocker(t)
	fn := moto.NewFunction(t, cfg, fmt.Sprintf("store-cli-%d", time.Now().UnixNano()))
	replayStore := func(extra ...string) map[string]any {
		var out, errOut bytes.Buffer
		args := append([]string{"--table", table, "--from", "2026-11-21T09:00:00Z", "--to", "2026-11-21T09:59:59Z", "--function", fn, "--sync"}, extra...)
		run(ctx, args, &out, &errOut)
		return summary(t, out.String())
	}

	// WHEN it is replayed with --shards 32, THEN every event is read and delivered, once
	if s := replayStore("--shards", "32"); s["read"] != 96.0 || s["delivered"] != 96.0 || s["objects"] != 32.0 {
		t.Errorf("--shards 32: summary %v, want 96 read and delivered from 32 shards", s)
	}
	// AND with the default (16) half the shards are never read: the flag is what a store with more shards needs
	if s := replayStore(); s["read"] == 96.0 || s["objects"] != 16.0 {
		t.Errorf("default shards: summary %v, want 16 shards read and events missed", s)
	}
}
