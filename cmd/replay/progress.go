package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/eventlake/eventlake/replay"
)

// progress reports on stderr: a bar redrawn in place on a terminal, a plain line every 10 seconds otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int // objects to read, when known; under mu
	start time.Time
	mu    sync.Mutex
	last  time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, start: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

// setTotal sets the number of objects to read, once it is known.
func (p *progress) setTotal(n int) {
	p.mu.Lock()
	p.total = n
	p.mu.Unlock()
}

func (p *progress) update(s replay.Summary) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := time.Since(p.start)
	sent, verb := s.Delivered, "delivered"
	if s.DryRun {
		sent, verb = s.WouldDeliver, "would deliver"
	}
	rate := float64(s.Read) / max(elapsed.Seconds(), 0.001)
	if p.tty {
		bar := ""
		if p.total > 0 {
			const width = 30
			done := min(width, int(float64(width)*float64(s.Objects)/float64(p.total)))
			bar = fmt.Sprintf("[%s%s] %d/%d objects ", strings.Repeat("=", done), strings.Repeat(" ", width-done), s.Objects, p.total)
		} else {
			bar = fmt.Sprintf("%d objects ", s.Objects)
		}
		fmt.Fprintf(p.w, "\r%s| %d read | %.0f/s | %d %s | %d failed | %d malformed \x1b[K", bar, s.Read, rate, sent, verb, s.Failed, s.Malformed)
		return
	}
	if time.Since(p.last) < 10*time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "replay: %s: %d objects, %d events read (%.0f/s), %d %s, %d batches, %d failed, %d malformed\n",
		elapsed.Round(time.Second), s.Objects, s.Read, rate, sent, verb, s.Batches, s.Failed, s.Malformed)
}

func (p *progress) finish(s replay.Summary) {
	p.mu.Lock()
	p.last = time.Time{}
	p.mu.Unlock()
	p.update(s)
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
