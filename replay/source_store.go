package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/lake"
)

// StoreSource reads the event store by time range (Options.From and Options.To are required): hour by hour, each
// hour's write shards one after another. Every event of one entity lies in one shard of an hour, in stream order, so
// no entity's events are reordered; a unit of progress is one hour's shard ("2026-11-21T09#03").
type StoreSource struct {
	// Reader reads the event store.
	Reader *eventstore.Reader
}

// Units lists the hour shards of the range, after resumeAfter.
func (s *StoreSource) Units(ctx context.Context, opts Options, resumeAfter string, fn func(key string) error) error {
	if opts.From.IsZero() || opts.To.IsZero() {
		return errors.New("a replay from the event store needs a time range: from and to")
	}
	shards := s.Reader.Shards
	if shards == 0 {
		shards = eventstore.DefaultShards
	}
	for hour := opts.From.UTC().Truncate(time.Hour); !hour.After(opts.To); hour = hour.Add(time.Hour) {
		for shard := range shards {
			key := eventstore.TimePK(hour, shard)
			if key <= resumeAfter {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(key); err != nil {
				return err
			}
		}
	}
	return nil
}

// Open streams one hour shard's events as lake lines, through a small buffer.
func (s *StoreSource) Open(ctx context.Context, opts Options, key string) (LineReader, string, error) {
	var hourText string
	var shard int
	if _, err := fmt.Sscanf(key, "%13s#%d", &hourText, &shard); err != nil {
		return nil, key, fmt.Errorf("event store unit %q: %w", key, err)
	}
	hour, err := time.Parse("2006-01-02T15", hourText)
	if err != nil {
		return nil, key, fmt.Errorf("event store unit %q: %w", key, err)
	}
	where := fmt.Sprintf("event store %s shard %s", s.Reader.Table, key)
	ctx, cancel := context.WithCancel(ctx)
	lines := &storeLines{ch: make(chan lake.Line, 256), cancel: cancel}
	go func() {
		defer close(lines.ch)
		lines.err = s.Reader.Shard(ctx, hour, shard, opts.From, opts.To, func(e eventstore.Event) error {
			md := &lake.Metadata{SequenceNumber: e.SequenceNumber, SubsequenceNumber: e.Subsequence, PartitionKey: e.PartitionKey,
				ShardID: e.ShardID, ApproximateArrivalTimestamp: e.Arrival.UnixMilli()}
			select {
			case lines.ch <- lake.Line{Metadata: md, Event: e.Data}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return lines, where, nil
}

type storeLines struct {
	ch     chan lake.Line
	err    error // set before ch is closed
	n      int
	cancel context.CancelFunc
}

func (l *storeLines) Next() (lake.Line, int, error) {
	line, ok := <-l.ch
	if !ok {
		if l.err != nil && !errors.Is(l.err, context.Canceled) {
			return lake.Line{}, l.n, l.err
		}
		return lake.Line{}, l.n, io.EOF
	}
	l.n++
	return line, l.n, nil
}

func (l *storeLines) Close() error {
	l.cancel()
	for range l.ch { // let the reader goroutine finish
	}
	return nil
}
