package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/time/rate"

	"github.com/eventlake/eventlake/lake"
)

// S3API is the part of the S3 API the engine reads the lake with.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Record is one event on its way to the target.
type Record struct {
	// Line is the lake line it came from.
	Line lake.Line
	// Kinesis is the record as a Kinesis-subscribed function receives it.
	Kinesis events.KinesisEventRecord
	// JSON is Kinesis, marshalled.
	JSON []byte
	// Where names the object and line, for reports.
	Where string
	obj   int64 // sequence number of its object
}

// Batch is what one call to the target carries.
type Batch struct {
	// Records are the batch's records, in lane order.
	Records []*Record
	// Bytes is the batch's payload size as the target counts it.
	Bytes int
}

// Target receives batches.
type Target interface {
	// Overhead is the payload size of an empty batch; Size is what one record adds to it.
	Overhead() int
	Size(r *Record) int
	// PackLimit is the payload size batches are packed up to; a record that alone exceeds it still goes, alone, if
	// it fits AloneLimit. A record over AloneLimit is oversized: reported, not sent.
	PackLimit() int
	AloneLimit() int
	// MaxRecords caps the records of one batch, whatever the batch size option.
	MaxRecords() int
	// Send delivers the batch and returns how many calls it took.
	Send(ctx context.Context, b *Batch) (calls int, err error)
	// Check verifies, sending nothing, that the target exists and may be delivered to. Every run calls it once,
	// before it reads anything; a dry run makes no other call to the target.
	Check(ctx context.Context) error
}

// Checkpointer keeps a run's progress.
type Checkpointer interface {
	// Load returns the key of the last completed object, or "" to start at the beginning.
	Load() (string, error)
	// Save records the key of the last completed object.
	Save(key string) error
}

// Run replays the lake as opts say into target. It first checks the target (Target.Check), and reads nothing when
// the target cannot be delivered to: a function or stream that does not exist, or a missing permission. Cancelling
// ctx stops the reading; batches already read are still
// delivered (with their own time limit of a minute), and the checkpoint is saved, so a new run resumes after it.
// progress, if not nil, is called about once a second with the counts so far.
func Run(ctx context.Context, lakeAPI S3API, target Target, opts Options, cp Checkpointer, progress func(Summary)) (Summary, error) {
	return RunSource(ctx, &LakeSource{S3: lakeAPI}, target, opts, cp, progress)
}

// Source is where a replay reads: the lake ([LakeSource]) or the event store ([StoreSource]). It yields units of
// progress (lake objects, event store time shards) in key order; the checkpoint is the last unit completed.
type Source interface {
	// Units calls fn with the key of each unit to read, in order, after resumeAfter.
	Units(ctx context.Context, opts Options, resumeAfter string, fn func(key string) error) error
	// Open returns the lines of one unit; where names it in reports.
	Open(ctx context.Context, opts Options, key string) (lines LineReader, where string, err error)
}

// LineReader yields a unit's lines; a *lake.MalformedLineError is not final.
type LineReader interface {
	Next() (lake.Line, int, error)
	Close() error
}

// RunSource replays from any source; see [Run].
func RunSource(ctx context.Context, src Source, target Target, opts Options, cp Checkpointer, progress func(Summary)) (Summary, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	r := &run{opts: opts, src: src, target: target, cp: cp, tracker: newTracker()}
	r.sum.DryRun = opts.DryRun
	if cp != nil {
		if r.sum.ResumedAfter, err = cp.Load(); err != nil {
			return Summary{}, fmt.Errorf("load checkpoint: %w", err)
		}
		r.sum.Checkpoint = r.sum.ResumedAfter
	}
	if err := target.Check(ctx); err != nil {
		return r.summary(), fmt.Errorf("the target cannot be delivered to; nothing was read or sent: %w", err)
	}
	if opts.Rate > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(opts.Rate), 1)
	}

	// Deliveries outlive a cancelled read by up to a minute, so that what was read is delivered and checkpointed.
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	go func() {
		<-ctx.Done()
		select {
		case <-time.After(time.Minute):
			stopSending()
		case <-sendCtx.Done():
		}
	}()

	lanes := make([]chan *Record, opts.Concurrency)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan *Record, 2*opts.BatchSize)
		wg.Add(1)
		go func() { defer wg.Done(); r.lane(sendCtx, lanes[i]) }()
	}
	done := make(chan struct{})
	if progress != nil {
		go func() {
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					progress(r.summary())
				}
			}
		}()
	}

	readErr := r.read(ctx, lanes)
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
	close(done)
	r.sum.Done = readErr == nil
	if err := r.tracker.flush(); err != nil && readErr == nil {
		readErr = err
	}
	if errors.Is(readErr, context.Canceled) || errors.Is(readErr, context.DeadlineExceeded) {
		return r.summary(), nil // stopped: resume from the checkpoint
	}
	return r.summary(), readErr
}

type run struct {
	opts    Options
	src     Source
	target  Target
	cp      Checkpointer
	limiter *rate.Limiter
	tracker *tracker

	mu        sync.Mutex
	sum       Summary
	objects   atomic.Int64
	readCount atomic.Int64
	delivered atomic.Int64
	would     atomic.Int64
	batches   atomic.Int64
	calls     atomic.Int64
	bytes     atomic.Int64
	bad       atomic.Int64
	filtered  atomic.Int64
	failed    atomic.Int64
	over      atomic.Int64
}

func (r *run) summary() Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sum
	s.Problems = append([]string(nil), r.sum.Problems...)
	s.Objects, s.Read, s.Delivered, s.WouldDeliver = r.objects.Load(), r.readCount.Load(), r.delivered.Load(), r.would.Load()
	s.Batches, s.Invocations = r.batches.Load(), r.calls.Load()
	s.Bytes, s.Malformed, s.Filtered, s.Failed, s.Oversized = r.bytes.Load(), r.bad.Load(), r.filtered.Load(), r.failed.Load(), r.over.Load()
	return s
}

func (r *run) problem(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sum.Problems) < maxProblems {
		r.sum.Problems = append(r.sum.Problems, fmt.Sprintf(format, args...))
	}
}

// read sends the records of every unit to the lanes, in key order.
func (r *run) read(ctx context.Context, lanes []chan *Record) error {
	return r.src.Units(ctx, r.opts, r.sum.ResumedAfter, func(key string) error { return r.readObject(ctx, key, lanes) })
}

func (r *run) readObject(ctx context.Context, key string, lanes []chan *Record) error {
	seq := r.tracker.open(key)
	defer r.tracker.closeReading(seq, r)
	r.objects.Add(1)
	dec, where, err := r.src.Open(ctx, r.opts, key)
	if err != nil {
		r.tracker.markIncomplete(seq)
		return err
	}
	defer dec.Close()
	src := lake.Source{StreamARN: r.opts.SourceARN, Region: r.opts.Region}
	for {
		if err := ctx.Err(); err != nil {
			r.tracker.markIncomplete(seq)
			return err
		}
		line, n, err := dec.Next()
		var bad *lake.MalformedLineError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &bad):
			r.bad.Add(1)
			r.problem("malformed: %s line %d: %v", where, bad.Line, bad.Err)
			continue
		case err != nil:
			r.tracker.markIncomplete(seq)
			return fmt.Errorf("read %s: %w", where, err)
		}
		rec := line.KinesisRecord(src)
		keep := r.opts.keepTime(lake.ArrivalTime(rec.Kinesis.ApproximateArrivalTimestamp))
		if keep && r.opts.Type != "" {
			h, _ := line.Header()
			keep = r.opts.keepType(h.Type)
		}
		if !keep {
			r.readCount.Add(1)
			r.filtered.Add(1)
			continue
		}
		js, err := json.Marshal(rec)
		if err != nil {
			r.bad.Add(1)
			r.problem("malformed: %s line %d: %v", where, n, err)
			continue
		}
		record := &Record{Line: line, Kinesis: rec, JSON: js, Where: fmt.Sprintf("%s line %d", where, n), obj: seq}
		r.tracker.add(seq)
		r.readCount.Add(1) // before the lane has it, so that a progress report never shows more delivered than read
		select {
		case lanes[laneOf(rec.Kinesis.PartitionKey, len(lanes))] <- record:
		case <-ctx.Done():
			r.readCount.Add(-1) // not handed on: a resumed run reads it again
			r.tracker.done(seq, false, r)
			r.tracker.markIncomplete(seq)
			return ctx.Err()
		}
	}
}

func laneOf(key string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// lane packs the records of its keys into batches and delivers them one after another.
func (r *run) lane(ctx context.Context, in <-chan *Record) {
	t := r.target
	batch := &Batch{Bytes: t.Overhead()}
	maxRecords := min(r.opts.BatchSize, t.MaxRecords())
	flush := func() {
		if len(batch.Records) > 0 {
			r.deliver(ctx, batch)
			batch = &Batch{Bytes: t.Overhead()}
		}
	}
	for rec := range in {
		size := t.Size(rec)
		if t.Overhead()+size > t.AloneLimit() {
			r.over.Add(1)
			r.problem("oversized: %s: %d bytes, more than the %d-byte limit of one call", rec.Where, t.Overhead()+size, t.AloneLimit())
			r.tracker.done(rec.obj, true, r) // reported, not sent: the replay goes on past it
			continue
		}
		if len(batch.Records) > 0 && (batch.Bytes+size > t.PackLimit() || len(batch.Records) == maxRecords) {
			flush()
		}
		batch.Records = append(batch.Records, rec)
		batch.Bytes += size
		if batch.Bytes > t.PackLimit() { // one record alone over the pack limit: it goes alone
			flush()
		}
	}
	flush()
}

func (r *run) deliver(ctx context.Context, b *Batch) {
	r.batches.Add(1)
	r.bytes.Add(int64(b.Bytes))
	ok := true
	if !r.opts.DryRun {
		if r.limiter != nil {
			if err := r.limiter.Wait(ctx); err != nil {
				ok = false
			}
		}
		if ok {
			calls, err := r.target.Send(ctx, b)
			r.calls.Add(int64(calls))
			if err != nil {
				ok = false
				r.failed.Add(int64(len(b.Records)))
				r.problem("failed: %d events from %s to %s: %v", len(b.Records), b.Records[0].Where, b.Records[len(b.Records)-1].Where, err)
			}
		} else {
			r.failed.Add(int64(len(b.Records)))
		}
	}
	switch {
	case ok && r.opts.DryRun:
		r.would.Add(int64(len(b.Records)))
	case ok:
		r.delivered.Add(int64(len(b.Records)))
	}
	for _, rec := range b.Records {
		r.tracker.done(rec.obj, ok, r)
	}
}

// Count lists what a run with opts would read from the lake, without reading it: the number of objects and their
// total size.
func Count(ctx context.Context, lakeAPI S3API, opts Options, resumeAfter string) (objects int, bytes int64, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return 0, 0, err
	}
	err = (&LakeSource{S3: lakeAPI}).list(ctx, opts, resumeAfter, func(obj s3types.Object) error {
		objects++
		bytes += aws.ToInt64(obj.Size)
		return nil
	})
	return objects, bytes, err
}
