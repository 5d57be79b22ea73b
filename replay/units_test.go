package replay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/replay"
)

// units is a replay.Source of lake text held in memory: each unit is a key and the lines of its object, read with
// the lake decoder as a lake object is. It tests the engine (packing, counts, checkpoints) without S3; the lake
// source itself is tested against moto.
type units struct {
	keys  []string
	text  map[string]string
	fail  map[string]error // Open fails for these keys
	opens atomic.Int64
	mu    sync.Mutex
	after []string // the resumeAfter of each Units call
	// onLine, when set, is called with the number of lines yielded so far, before the line is yielded.
	onLine func(n int64)
	lines  atomic.Int64
	// listed is closed when Units first returns.
	listed     chan struct{}
	listedOnce sync.Once
}

// unitsOf makes a source of objects named key-0, key-1, … each holding the given lines.
func unitsOf(objects ...[]string) *units {
	u := &units{text: map[string]string{}, fail: map[string]error{}, listed: make(chan struct{})}
	for i, lines := range objects {
		key := fmt.Sprintf("events/2026/11/21/%02d/o", i)
		u.keys = append(u.keys, key)
		u.text[key] = strings.Join(lines, "\n") + "\n"
	}
	return u
}

func (u *units) Units(ctx context.Context, _ replay.Options, resumeAfter string, fn func(string) error) error {
	defer u.listedOnce.Do(func() { close(u.listed) })
	u.mu.Lock()
	u.after = append(u.after, resumeAfter)
	u.mu.Unlock()
	for _, k := range u.keys {
		if k <= resumeAfter {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

type decoderLines struct {
	*lake.Decoder
	u *units
}

func (d decoderLines) Next() (lake.Line, int, error) {
	l, n, err := d.Decoder.Next()
	if err == nil && d.u.onLine != nil {
		d.u.onLine(d.u.lines.Add(1))
	}
	return l, n, err
}

func (decoderLines) Close() error { return nil }

func (u *units) Open(_ context.Context, _ replay.Options, key string) (replay.LineReader, string, error) {
	u.opens.Add(1)
	where := "mem://" + key
	if err := u.fail[key]; err != nil {
		return nil, where, err
	}
	dec, err := lake.NewDecoder(strings.NewReader(u.text[key]))
	if err != nil {
		return nil, where, err
	}
	return decoderLines{dec, u}, where, nil
}

// lakeLines makes n lake lines of keys k0..k(keys-1), numbered from first, arrived 1 ms apart from 1795000000000 + first.
func lakeLines(first, n, keys int) []string {
	var out []string
	for i := first; i < first+n; i++ {
		out = append(out, line(i, fmt.Sprintf("k%d", i%keys), fmt.Sprintf("e%d", i), "t"))
	}
	return out
}

var errBroken = errors.New("broken object")
