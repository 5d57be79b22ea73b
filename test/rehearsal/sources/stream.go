package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"golang.org/x/sync/errgroup"

	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

// An Option tunes a driver. Each option says which drivers read it; the others ignore it.
type Option func(*options)

type options struct {
	functionARN    string
	roleARN        string
	mappingUUID    string
	eventSourceARN string
	now            func() time.Time
	logf           func(format string, args ...any)
	failedVis      *time.Duration
	startPos       string
	pollInterval   time.Duration
}

// WithFunctionARN sets the functionArn of invocation records (stream drivers) and the lambdaArn of Firehose's error
// records; by default the mapping's FunctionName, or the processor's LambdaArn.
func WithFunctionARN(arn string) Option { return func(o *options) { o.functionARN = arn } }

// WithRoleARN sets invokeIdentityArn, the function's execution role, in Kinesis records (Kinesis driver).
func WithRoleARN(arn string) Option { return func(o *options) { o.roleARN = arn } }

// WithMappingUUID sets the event source mapping's UUID, which names the S3 objects of an S3 on-failure destination
// (stream drivers); a random UUID by default.
func WithMappingUUID(id string) Option { return func(o *options) { o.mappingUUID = id } }

// WithEventSourceARN sets the eventSourceARN of the records handed to the function (Kinesis driver). By default it
// is the stream's ARN, also for a mapping of a stream consumer (enhanced fan-out).
func WithEventSourceARN(arn string) Option { return func(o *options) { o.eventSourceARN = arn } }

// WithClock sets the clock that record ages, invocation-record timestamps and Firehose's attempt timestamps are
// read from (all drivers); time.Now by default. Tests move it forward to age records without waiting.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogf logs what a driver does (each invocation and its outcome, each record given up), such as testing.T's
// Logf.
func WithLogf(logf func(format string, args ...any)) Option {
	return func(o *options) { o.logf = logf }
}

// WithFailedVisibility makes the SQS driver set the visibility timeout of the messages an invocation failed to d
// (ChangeMessageVisibility, whole seconds) instead of leaving them invisible for the rest of the queue's visibility
// timeout, as Lambda does. It compresses time for tests of retries and redrive: the blueprint's queues have a
// visibility timeout of 6 minutes.
func WithFailedVisibility(d time.Duration) Option { return func(o *options) { o.failedVis = &d } }

// WithStartingPosition sets where the Firehose driver starts reading its source stream: LATEST (when the driver is
// made), as Firehose does, by default, or TRIM_HORIZON.
func WithStartingPosition(pos string) Option { return func(o *options) { o.startPos = pos } }

// WithPollInterval sets how long the SQS driver's Drain sleeps between receives while the only messages left are in
// flight or delayed; 100 ms by default.
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

func newOptions(opts []Option) options {
	o := options{now: time.Now, logf: func(string, ...any) {}, pollInterval: 100 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	if o.mappingUUID == "" {
		o.mappingUUID = newUUID()
	}
	return o
}

// streamRecord is one record of a stream as the function receives it.
type streamRecord struct {
	seq     string
	arrival time.Time
	raw     json.RawMessage // the record of the event, exactly as handed to the function
	doc     any             // what the filter patterns are matched against
}

type shardInfo struct {
	id      string
	parents []string
}

// streamSource reads the shards of a Kinesis stream or a DynamoDB table stream.
type streamSource interface {
	listShards(ctx context.Context) ([]shardInfo, error)
	// read returns every record of the shard the stream holds now after sequence number after, or from the
	// mapping's starting position when after is "".
	read(ctx context.Context, shardID, after string) ([]streamRecord, error)
}

type shardState struct {
	id         string
	parents    []string
	checkpoint string
}

// engine is what the Kinesis and DynamoDB Streams drivers share: the event source mapping's handling of a stream's
// shards (batches, filters, partial failures, bisection, retries, record age, on-failure destination).
type engine struct {
	kind         string // for logs
	src          streamSource
	s            StreamSettings
	fn           Invoker
	filter       *Filter
	dest         *destination
	o            options
	streamARN    string
	batchInfoKey string // KinesisBatchInfo or DDBStreamBatchInfo

	mu       sync.Mutex
	shards   map[string]*shardState
	stats    Stats
	failures []FailureRecord
}

func newEngine(kind string, cfg aws.Config, s StreamSettings, fn Invoker, o options) (*engine, error) {
	if fn == nil {
		return nil, fmt.Errorf("%s driver: no function to invoke", kind)
	}
	if s.TumblingWindowInSeconds > 0 {
		return nil, fmt.Errorf("%s driver: TumblingWindowInSeconds %d: tumbling windows are not emulated", kind, s.TumblingWindowInSeconds)
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultStreamBatchSize
	}
	f, err := NewFilter(s.FilterPatterns)
	if err != nil {
		return nil, fmt.Errorf("%s driver: %w", kind, err)
	}
	if o.functionARN == "" {
		o.functionARN = s.FunctionName
	}
	return &engine{kind: kind, s: s, fn: fn, filter: f, o: o, shards: map[string]*shardState{},
		dest: &destination{arn: s.OnFailureDestination, cfg: cfg}}, nil
}

func (e *engine) count(f func(*Stats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

func (e *engine) snapshot() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

func (e *engine) failureRecords() []FailureRecord {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]FailureRecord(nil), e.failures...)
}

// drain processes every shard until a pass over all of them reads nothing new. Shards are processed concurrently,
// each in order; a child shard only after its parents.
func (e *engine) drain(ctx context.Context) error {
	if !e.s.Enabled {
		return nil
	}
	for {
		infos, err := e.src.listShards(ctx)
		if err != nil {
			return err
		}
		for _, in := range infos {
			if _, ok := e.shards[in.id]; !ok {
				e.shards[in.id] = &shardState{id: in.id, parents: in.parents}
			}
		}
		var total atomic.Int64
		for _, wave := range e.waves() {
			g, gctx := errgroup.WithContext(ctx)
			for _, sh := range wave {
				g.Go(func() error {
					n, err := e.drainShard(gctx, sh)
					total.Add(int64(n))
					return err
				})
			}
			if err := g.Wait(); err != nil {
				return err
			}
		}
		if total.Load() == 0 {
			return nil
		}
	}
}

// waves orders the shards: a shard's wave comes after its known parents'.
func (e *engine) waves() [][]*shardState {
	level := map[string]int{}
	var depth func(id string, seen map[string]bool) int
	depth = func(id string, seen map[string]bool) int {
		if l, ok := level[id]; ok {
			return l
		}
		sh, ok := e.shards[id]
		if !ok || seen[id] {
			return -1
		}
		seen[id] = true
		l := 0
		for _, p := range sh.parents {
			if d := depth(p, seen); d+1 > l {
				l = d + 1
			}
		}
		level[id] = l
		return l
	}
	var out [][]*shardState
	ids := make([]string, 0, len(e.shards))
	for id := range e.shards {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		l := depth(id, map[string]bool{})
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], e.shards[id])
	}
	return out
}

// envelope wraps records as the event Lambda sends: {"Records":[…]}.
func envelope(recs []streamRecord) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r.raw)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

const envelopeBytes = len(`{"Records":[]}`)

// drainShard reads what the shard holds after its checkpoint and processes it in batches; it returns how many
// records it read.
func (e *engine) drainShard(ctx context.Context, sh *shardState) (int, error) {
	recs, err := e.src.read(ctx, sh.id, sh.checkpoint)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	var batch []streamRecord
	size := envelopeBytes
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := e.process(ctx, sh, batch)
		batch, size = nil, envelopeBytes
		return err
	}
	for _, r := range recs {
		if !e.filter.Match(r.doc) {
			e.count(func(s *Stats) { s.Filtered++ })
			continue
		}
		n := len(r.raw) + 1
		if len(batch) > 0 && (len(batch) >= e.s.BatchSize || size+n > lambdart.MaxRequestBytes) {
			if err := flush(); err != nil {
				return len(recs), err
			}
		}
		batch = append(batch, r)
		size += n
	}
	if err := flush(); err != nil {
		return len(recs), err
	}
	sh.checkpoint = recs[len(recs)-1].seq // past the records the filter dropped too
	return len(recs), nil
}

// part is a batch, or a part of one after a split or a partial failure, with what happened to its records so far.
type part struct {
	recs        []streamRecord
	attempts    int // failed invocations that consumed the retry quota
	invocations int // invocations that carried these records
	requestID   string
	lastErr     error
}

// process hands one batch to the function until its records are processed or given up, and checkpoints past it.
func (e *engine) process(ctx context.Context, sh *shardState, batch []streamRecord) error {
	queue := []*part{{recs: batch}}
	for len(queue) > 0 {
		cur := queue[0]
		if age := e.s.MaximumRecordAgeInSeconds; age > 0 {
			now := e.o.now()
			i := 0
			for i < len(cur.recs) && now.Sub(cur.recs[i].arrival) > time.Duration(age)*time.Second {
				i++
			}
			if i > 0 {
				if err := e.giveUp(ctx, sh, cur.recs[:i], ConditionRecordAgeExceeded, cur); err != nil {
					return err
				}
				sh.checkpoint = cur.recs[i-1].seq
				cur.recs = cur.recs[i:]
				if len(cur.recs) == 0 {
					queue = queue[1:]
					continue
				}
			}
		}
		resp, err := e.invoke(ctx, sh, cur)
		if err != nil && isContextError(ctx, err) {
			return err
		}
		failedAt, complete := e.outcome(sh, cur, resp, err)
		switch {
		case !complete && failedAt < 0: // success
			e.count(func(s *Stats) { s.Succeeded += len(cur.recs) })
			sh.checkpoint = cur.recs[len(cur.recs)-1].seq
			queue = queue[1:]
			continue
		case !complete && failedAt > 0: // partial: checkpoint before the lowest failed record, retry from it
			e.count(func(s *Stats) { s.Succeeded += failedAt })
			sh.checkpoint = cur.recs[failedAt-1].seq
			cur.recs = cur.recs[failedAt:]
			if e.s.BisectBatchOnFunctionError {
				// "the batch is bisected at the returned sequence number and Lambda retries only the remaining
				// records": a split, which does not consume the retry quota.
				e.count(func(s *Stats) { s.Bisections++ })
				continue
			}
		default: // a complete failure (an error, a bad response, or the first record reported failed)
			if e.s.BisectBatchOnFunctionError && len(cur.recs) > 1 {
				h := len(cur.recs) / 2
				a := &part{recs: cur.recs[:h], attempts: cur.attempts, invocations: cur.invocations, requestID: cur.requestID, lastErr: cur.lastErr}
				b := &part{recs: cur.recs[h:], attempts: cur.attempts, invocations: cur.invocations, requestID: cur.requestID, lastErr: cur.lastErr}
				queue = append([]*part{a, b}, queue[1:]...)
				e.count(func(s *Stats) { s.Bisections++ })
				e.o.logf("%s %s: bisected %d records into %d and %d", e.kind, sh.id, len(cur.recs), len(a.recs), len(b.recs))
				continue
			}
		}
		cur.attempts++
		if max := e.s.MaximumRetryAttempts; max >= 0 && cur.attempts > max {
			if err := e.giveUp(ctx, sh, cur.recs, ConditionRetryAttemptsExhausted, cur); err != nil {
				return err
			}
			sh.checkpoint = cur.recs[len(cur.recs)-1].seq
			queue = queue[1:]
		}
	}
	return nil
}

func (e *engine) invoke(ctx context.Context, sh *shardState, cur *part) ([]byte, error) {
	retry := cur.attempts > 0
	e.count(func(s *Stats) {
		s.Invocations++
		s.Records += len(cur.recs)
		if retry {
			s.Retries++
		}
	})
	cur.invocations++
	resp, err := e.fn.Invoke(ctx, envelope(cur.recs))
	cur.lastErr = err
	cur.requestID = requestIDOf(err)
	return resp, err
}

// outcome reads an invocation's result: failedAt is the index of the lowest failed record of a partial failure,
// -1 for none; complete is true for a complete failure.
func (e *engine) outcome(sh *shardState, cur *part, resp []byte, err error) (failedAt int, complete bool) {
	first, last := cur.recs[0].seq, cur.recs[len(cur.recs)-1].seq
	if err != nil {
		e.count(func(s *Stats) { s.FunctionErrors++ })
		e.o.logf("%s %s: %d records %s..%s: invocation failed (attempt %d): %v", e.kind, sh.id, len(cur.recs), first, last, cur.attempts+1, err)
		return -1, true
	}
	if !e.s.ReportBatchItemFailures {
		e.o.logf("%s %s: %d records %s..%s: ok", e.kind, sh.id, len(cur.recs), first, last)
		return -1, false
	}
	ids, ok, reason := itemFailures(resp)
	if !ok {
		e.count(func(s *Stats) { s.PartialFailures++ })
		e.o.logf("%s %s: %d records %s..%s: the whole batch failed: %s", e.kind, sh.id, len(cur.recs), first, last, reason)
		return -1, true
	}
	if len(ids) == 0 {
		e.o.logf("%s %s: %d records %s..%s: ok", e.kind, sh.id, len(cur.recs), first, last)
		return -1, false
	}
	e.count(func(s *Stats) { s.PartialFailures++ })
	lowest := ids[0]
	for _, id := range ids[1:] {
		if seqLess(id, lowest) {
			lowest = id
		}
	}
	for i, r := range cur.recs {
		if r.seq == lowest {
			e.o.logf("%s %s: %d records %s..%s: batch item failure at %s (record %d)", e.kind, sh.id, len(cur.recs), first, last, lowest, i)
			if i == 0 {
				return -1, true
			}
			return i, false
		}
	}
	e.o.logf("%s %s: %d records %s..%s: the whole batch failed: itemIdentifier %q is not a sequence number of the batch", e.kind, sh.id, len(cur.recs), first, last, lowest)
	return -1, true
}

// giveUp sends the invocation record of recs to the on-failure destination (or only records it, without one).
func (e *engine) giveUp(ctx context.Context, sh *shardState, recs []streamRecord, condition string, cur *part) error {
	now := e.o.now()
	rec := invocationRecord{
		RequestContext: requestContext{RequestID: cur.requestID, FunctionARN: e.o.functionARN, Condition: condition, ApproximateInvokeCount: cur.invocations},
		Version:        "1.0",
		Timestamp:      rfc3339Millis(now),
	}
	if rec.RequestContext.RequestID == "" {
		rec.RequestContext.RequestID = newUUID()
	}
	if cur.invocations > 0 {
		rec.ResponseContext = &responseContext{StatusCode: 200, ExecutedVersion: "$LATEST"}
		if cur.lastErr != nil {
			rec.ResponseContext.FunctionError = "Unhandled"
		}
	}
	info := &batchInfo{
		ShardID:                         sh.id,
		StartSequenceNumber:             recs[0].seq,
		EndSequenceNumber:               recs[len(recs)-1].seq,
		ApproximateArrivalOfFirstRecord: rfc3339Millis(recs[0].arrival),
		ApproximateArrivalOfLastRecord:  rfc3339Millis(recs[len(recs)-1].arrival),
		BatchSize:                       len(recs),
		StreamARN:                       e.streamARN,
	}
	if e.batchInfoKey == "DDBStreamBatchInfo" {
		rec.DDBStreamBatchInfo = info
	} else {
		rec.KinesisBatchInfo = info
	}
	key, doc, err := e.dest.deliver(ctx, rec, envelope(recs), e.o.mappingUUID, sh.id, now)
	e.mu.Lock()
	e.failures = append(e.failures, FailureRecord{
		Destination: e.s.OnFailureDestination, Key: key, Condition: condition, ShardID: sh.id,
		StartSequenceNumber: info.StartSequenceNumber, EndSequenceNumber: info.EndSequenceNumber, BatchSize: len(recs), Document: doc,
	})
	e.stats.FailuresSent++
	e.stats.FailedRecords += len(recs)
	if condition == ConditionRecordAgeExceeded {
		e.stats.Expired += len(recs)
	}
	e.mu.Unlock()
	e.o.logf("%s %s: gave up %d records %s..%s (%s) to %q", e.kind, sh.id, len(recs), info.StartSequenceNumber, info.EndSequenceNumber, condition, e.s.OnFailureDestination)
	return err
}
