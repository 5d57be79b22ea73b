package replay

import (
	"fmt"
	"regexp"
	"sync"
	"time"
)

// tracker knows which objects are fully delivered and moves the checkpoint over the ones that are, in key order. An
// object with a failed batch, or one not read to its end, stops the checkpoint for good: a resumed run starts at it.
type tracker struct {
	mu     sync.Mutex
	next   int64
	low    int64
	states map[int64]*objState
	stuck  bool
	saved  string
	err    error
}

type objState struct {
	key        string
	reading    bool
	pending    int
	failed     bool
	incomplete bool
}

func newTracker() *tracker { return &tracker{states: map[int64]*objState{}} }

func (t *tracker) open(key string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	seq := t.next
	t.next++
	t.states[seq] = &objState{key: key, reading: true}
	return seq
}

func (t *tracker) add(seq int64) {
	t.mu.Lock()
	t.states[seq].pending++
	t.mu.Unlock()
}

func (t *tracker) markIncomplete(seq int64) {
	t.mu.Lock()
	t.states[seq].incomplete = true
	t.mu.Unlock()
}

func (t *tracker) done(seq int64, ok bool, r *run) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.states[seq]
	s.pending--
	if !ok {
		s.failed = true
	}
	t.advance(r)
}

func (t *tracker) closeReading(seq int64, r *run) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.states[seq].reading = false
	t.advance(r)
}

// advance retires the completed objects at the low end and saves the checkpoint. Called with t.mu held.
func (t *tracker) advance(r *run) {
	moved := false
	for !t.stuck {
		s, ok := t.states[t.low]
		if !ok || s.reading || s.pending > 0 {
			break
		}
		if s.incomplete || (s.failed && !r.opts.AdvancePastFailures) {
			t.stuck = true
			break
		}
		r.mu.Lock()
		r.sum.Checkpoint = s.key
		r.mu.Unlock()
		delete(t.states, t.low)
		t.low++
		moved = true
	}
	if moved && r.cp != nil && !r.opts.DryRun {
		r.mu.Lock()
		key := r.sum.Checkpoint
		r.mu.Unlock()
		if err := r.cp.Save(key); err != nil && t.err == nil {
			t.err = fmt.Errorf("save checkpoint %s: %w", key, err)
		}
		t.saved = key
	}
}

// flush reports a failure to save the checkpoint, if any.
func (t *tracker) flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// The lake's time-partitioned key layout: <prefix>YYYY/MM/DD/HH/<object>.
var (
	hourPath = regexp.MustCompile(`(^|/)(\d{4}/\d{2}/\d{2}/\d{2})/`)
	yearPath = regexp.MustCompile(`\d{4}/`)
)

const hourLayout = "2006/01/02/15"

// slack covers Firehose's buffering: an object under hour H holds events that arrived up to 15 minutes before H.
const slack = time.Hour

// keyHour returns the hour in a lake key and the key's part before it.
func keyHour(key string) (time.Time, string, bool) {
	m := hourPath.FindStringSubmatchIndex(key)
	if m == nil {
		return time.Time{}, "", false
	}
	t, err := time.Parse(hourLayout, key[m[4]:m[5]])
	if err != nil {
		return time.Time{}, "", false
	}
	return t, key[:m[4]], true
}

// startAfter is where listing starts: after the checkpoint, and not before the hour of From (less the slack).
func startAfter(opts Options, resumeAfter string) string {
	start := resumeAfter
	if !opts.From.IsZero() {
		base := opts.Prefix
		if _, b, ok := keyHour(opts.Prefix + "/"); ok {
			base = b // the prefix is itself a YYYY/MM/DD/HH path
		} else if loc := yearPath.FindStringIndex(opts.Prefix); loc != nil {
			base = opts.Prefix[:loc[0]] // a year, month or day prefix
		}
		fromKey := base + opts.From.Add(-slack).UTC().Format(hourLayout)
		if fromKey > start {
			start = fromKey
		}
	}
	return start
}

type position int

const (
	within position = iota
	before
	after
)

// inRange places a key's hour against [From, To], with the slack on both sides.
func inRange(opts Options, key string) position {
	hour, _, ok := keyHour(key)
	if !ok {
		return within // not the lake layout: read it, and filter its events one by one
	}
	if !opts.From.IsZero() && hour.Add(time.Hour).Before(opts.From.Add(-slack)) {
		return before
	}
	if !opts.To.IsZero() && hour.After(opts.To.Add(slack)) {
		return after
	}
	return within
}
