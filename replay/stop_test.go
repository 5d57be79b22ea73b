package replay_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlake/eventlake/replay"
)

// cancelling is a function target that cancels the run's context when it is sent its first batch.
type cancelling struct {
	batches
	cancel context.CancelFunc
}

func (c *cancelling) Send(ctx context.Context, b *replay.Batch) (int, error) {
	c.cancel()
	return c.batches.Send(ctx, b)
}

func TestAnInterruptedRunStopsWithoutAnErrorAndResumesAfterItsCheckpoint(t *testing.T) {
	// GIVEN three objects of 20 events
	src := unitsOf(lakeLines(0, 20, 1), lakeLines(20, 20, 1), lakeLines(40, 20, 1))
	cp := &replay.MemoryCheckpoint{}
	ctx, cancel := context.WithCancel(context.Background())
	target := &cancelling{cancel: cancel}

	// WHEN the run is interrupted while it delivers its first batch
	sum, err := replay.RunSource(ctx, src, target, replay.Options{BatchSize: 5, Concurrency: 1}, cp, nil)

	// THEN it stops without an error, not done; what it read was delivered, and the checkpoint is before the rest
	if err != nil {
		t.Fatalf("an interrupted run returned %v; want no error (it resumes from its checkpoint)", err)
	}
	if sum.Done || sum.Read == 60 || sum.Delivered != sum.Read || sum.Failed != 0 {
		t.Errorf("interrupted run %+v; want not done, fewer than 60 read, all of them delivered", sum)
	}
	if cp.After == src.keys[2] {
		t.Errorf("checkpoint %q: the run did not read the last object to its end", cp.After)
	}

	// WHEN it is run again
	again, err := replay.RunSource(context.Background(), src, &batches{}, replay.Options{BatchSize: 5, Concurrency: 1}, cp, nil)

	// THEN it starts after the checkpoint and finishes: nothing is left out
	if err != nil || !again.Done || again.ResumedAfter != sum.Checkpoint || cp.After != src.keys[2] {
		t.Fatalf("resumed run %+v (%v); want done, resumed after %q, checkpoint %q", again, err, sum.Checkpoint, src.keys[2])
	}
	objectsBefore := 0
	for _, k := range src.keys {
		if k <= sum.Checkpoint {
			objectsBefore++
		}
	}
	if sum.Delivered+again.Delivered < 60 || again.Read != int64(20*(3-objectsBefore)) {
		t.Errorf("delivered %d then %d (read %d again); want every one of 60 events, and the resumed run to read only the objects after %q",
			sum.Delivered, again.Delivered, again.Read, sum.Checkpoint)
	}
}

// held is a function target whose first Send waits until the source has stopped listing.
type held struct {
	batches
	src  *units
	once sync.Once
	t    *testing.T
}

func (h *held) Send(ctx context.Context, b *replay.Batch) (int, error) {
	h.once.Do(func() {
		select {
		case <-h.src.listed:
		case <-time.After(10 * time.Second):
			h.t.Error("the reader did not stop when the run was interrupted")
		}
	})
	return h.batches.Send(ctx, b)
}

func TestAnEventTheInterruptedReaderStillHeldIsNotCountedAsRead(t *testing.T) {
	// GIVEN one lane of batches of one, its first delivery slow: the lane holds two events and its buffer two more,
	// and the reader waits to hand on the fifth
	src := unitsOf(lakeLines(0, 20, 1))
	ctx, cancel := context.WithCancel(context.Background())
	src.onLine = func(n int64) {
		if n == 5 {
			cancel() // WHEN the run is interrupted then
		}
	}
	target := &held{src: src, t: t}
	sum, err := replay.RunSource(ctx, src, target, replay.Options{BatchSize: 1, Concurrency: 1}, &replay.MemoryCheckpoint{}, nil)

	// THEN the events it read are those handed on, and all of them are delivered: the fifth, never handed on, is
	// not counted, and a resumed run reads it again (the object is not checkpointed)
	if err != nil || sum.Done {
		t.Fatalf("interrupted run: %+v, %v", sum, err)
	}
	if sum.Read != sum.Delivered || sum.Delivered != 4 || sum.Checkpoint != "" {
		t.Errorf("read %d, delivered %d, checkpoint %q; want the 4 events handed on read and delivered, and no checkpoint", sum.Read, sum.Delivered, sum.Checkpoint)
	}
}

func TestARunPastItsDeadlineStopsWithoutAnError(t *testing.T) {
	// GIVEN a context whose deadline has passed (a deployed leg out of time)
	src := unitsOf(lakeLines(0, 10, 2))
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	// WHEN a run starts with it
	sum, err := replay.RunSource(ctx, src, &batches{}, replay.Options{}, &replay.MemoryCheckpoint{}, nil)

	// THEN it reads nothing and returns no error, not done, so that it is resumed
	if err != nil || sum.Done || sum.Read != 0 || src.opens.Load() != 0 {
		t.Errorf("run past its deadline: %+v, %v; want nothing read, not done, no error", sum, err)
	}
}

func TestAnObjectThatCannotBeReadFailsTheRunAndHoldsTheCheckpoint(t *testing.T) {
	// GIVEN three objects, the second one unreadable
	src := unitsOf(lakeLines(0, 10, 2), lakeLines(10, 10, 2), lakeLines(20, 10, 2))
	src.fail[src.keys[1]] = errBroken
	cp := &replay.MemoryCheckpoint{}

	// WHEN they are replayed
	sum, err := replay.RunSource(context.Background(), src, &batches{}, replay.Options{}, cp, nil)

	// THEN the run fails with the object's error, is not done, and its checkpoint is the object before it
	if !errors.Is(err, errBroken) || sum.Done {
		t.Fatalf("run over an unreadable object: %+v, %v; want its error and not done", sum, err)
	}
	if cp.After != src.keys[0] || sum.Checkpoint != src.keys[0] || sum.Delivered != 10 || src.opens.Load() != 2 {
		t.Errorf("checkpoint %q (summary %q), %d delivered, %d objects opened; want %q, 10 and 2 (the run stops at the error)",
			cp.After, sum.Checkpoint, sum.Delivered, src.opens.Load(), src.keys[0])
	}
}

func TestProblemsNameTheFirstHundred(t *testing.T) {
	// GIVEN an object of 150 malformed lines between good events
	var lines []string
	for i := range 150 {
		lines = append(lines, line(2*i, "k", fmt.Sprintf("e%d", i), "t"), fmt.Sprintf("{broken %d", i))
	}
	sum, err := replay.RunSource(context.Background(), unitsOf(lines), &batches{}, replay.Options{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// THEN every malformed line is counted, and the first 100 are named with their line
	if sum.Malformed != 150 || sum.Delivered != 150 || len(sum.Problems) != 100 {
		t.Fatalf("%d malformed, %d delivered, %d problems; want 150, 150 and the first 100 named", sum.Malformed, sum.Delivered, len(sum.Problems))
	}
	if !strings.Contains(sum.Problems[0], "events/2026/11/21/00/o line 2") || !strings.Contains(sum.Problems[99], "line 200") {
		t.Errorf("problems %q … %q; want the malformed lines 2 to 200, named with their object", sum.Problems[0], sum.Problems[99])
	}
}

func TestAnObjectBrokenMidwayFailsTheRunNamingItAndHoldsTheCheckpoint(t *testing.T) {
	// GIVEN a gzip object cut short after its first events (a broken upload), between two whole objects
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Join(lakeLines(10, 200, 3), "\n")))
	zw.Close()
	src := unitsOf(lakeLines(0, 10, 3), nil, lakeLines(300, 10, 3))
	src.text[src.keys[1]] = buf.String()[:buf.Len()/2]
	cp := &replay.MemoryCheckpoint{}

	// WHEN they are replayed
	sum, err := replay.RunSource(context.Background(), src, &batches{}, replay.Options{}, cp, nil)

	// THEN the run fails, naming the object; what was read of it is delivered, and the checkpoint stays before it
	if err == nil || !strings.HasPrefix(err.Error(), "read mem://"+src.keys[1]+": ") || sum.Done {
		t.Fatalf("run over a broken object: %+v, %v; want an error naming it", sum, err)
	}
	if cp.After != src.keys[0] || sum.Read <= 10 || sum.Delivered != sum.Read || src.opens.Load() != 2 {
		t.Errorf("checkpoint %q, %d read, %d delivered, %d objects opened; want %q, the events before the break delivered, and the run stopped",
			cp.After, sum.Read, sum.Delivered, src.opens.Load(), src.keys[0])
	}
}

func TestRateLimitsTheInvocationsPerSecond(t *testing.T) {
	// GIVEN 6 events of 6 keys, in batches of one over 4 lanes, at most 50 invocations a second
	target := &batches{}
	start := time.Now()
	sum, err := replay.RunSource(context.Background(), unitsOf(lakeLines(0, 6, 6)), target, replay.Options{BatchSize: 1, Rate: 50}, nil, nil)
	elapsed := time.Since(start)
	// THEN the 6 invocations take at least the 5 intervals of 20 ms after the first
	if err != nil || sum.Invocations != 6 || sum.Delivered != 6 {
		t.Fatalf("summary %+v, %v", sum, err)
	}
	if elapsed < 95*time.Millisecond {
		t.Errorf("6 invocations at 50 a second took %v; want at least 100 ms", elapsed)
	}
}

// slowUntil is a function target whose first Send waits until release is closed.
type slowUntil struct {
	batches
	release chan struct{}
	once    sync.Once
}

func (s *slowUntil) Send(ctx context.Context, b *replay.Batch) (int, error) {
	s.once.Do(func() {
		select {
		case <-s.release:
		case <-time.After(10 * time.Second):
		}
	})
	return s.batches.Send(ctx, b)
}

func TestProgressIsReportedEverySecondWhileTheRunLasts(t *testing.T) {
	// GIVEN a run whose first delivery lasts until progress is first reported
	target := &slowUntil{release: make(chan struct{})}
	var reports []replay.Summary
	var mu sync.Mutex
	progress := func(s replay.Summary) {
		mu.Lock()
		defer mu.Unlock()
		if reports = append(reports, s); len(reports) == 1 {
			close(target.release)
		}
	}

	// WHEN it runs
	start := time.Now()
	sum, err := replay.RunSource(context.Background(), unitsOf(lakeLines(0, 10, 2)), target, replay.Options{BatchSize: 2, Concurrency: 1}, nil, progress)
	if err != nil {
		t.Fatal(err)
	}

	// THEN progress was reported after about a second, with the counts so far (never more delivered than read)
	mu.Lock()
	defer mu.Unlock()
	if len(reports) == 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("%d progress reports in %v; want one after a second", len(reports), time.Since(start))
	}
	if p := reports[0]; p.Done || p.Read == 0 || p.Delivered > p.Read || p.Delivered == sum.Delivered {
		t.Errorf("progress %+v; want the counts of a run under way (the final: %+v)", p, sum)
	}
}
