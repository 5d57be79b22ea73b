package replay_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/eventlake/eventlake/lake"
	"github.com/eventlake/eventlake/replay"
)

// payloads is a function target that keeps the size of each batch it is sent (as counted, and as the payload is).
type payloads struct {
	replay.FunctionTarget
	mu       sync.Mutex
	records  []int
	counted  []int
	payloads []int
}

func (p *payloads) Check(context.Context) error { return nil }

func (p *payloads) Send(_ context.Context, b *replay.Batch) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.records = append(p.records, len(b.Records))
	p.counted = append(p.counted, b.Bytes)
	p.payloads = append(p.payloads, len(replay.Payload(b)))
	return 1, nil
}

// sameSize makes n (up to 899) events of one size, of one partition key: their ids and sequence numbers have as many
// digits, and they arrived on whole seconds (a function's record carries its arrival time in seconds, with as many
// decimals as it takes).
func sameSize(n int) []string {
	var out []string
	for i := range n {
		seq := 101 + i
		arrival := 1795000000000 + int64(seq)*1000
		out = append(out, strings.ReplaceAll(line(seq, "k0", fmt.Sprintf("e%d", seq), "t"), fmt.Sprint(1795000000000+int64(seq)), fmt.Sprint(arrival)))
	}
	return out
}

func TestBatchesArePackedUpToThePayloadLimitExactly(t *testing.T) {
	// GIVEN events of one size: one alone makes a payload of overhead + s bytes
	probe := &payloads{}
	if _, err := replay.RunSource(context.Background(), unitsOf(sameSize(1)), probe, replay.Options{Concurrency: 1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	overhead := (&replay.FunctionTarget{}).Overhead()
	s := probe.counted[0] - overhead
	if overhead != len(`{"Records":[]}`) || probe.payloads[0] > probe.counted[0] {
		t.Fatalf("an empty payload counts %d bytes, one of one record %d (counted %d)", overhead, probe.payloads[0], probe.counted[0])
	}

	// WHEN 10 of them are replayed with a payload limit of exactly three
	target := &payloads{FunctionTarget: replay.FunctionTarget{AsyncLimit: overhead + 3*s}}
	sum, err := replay.RunSource(context.Background(), unitsOf(sameSize(10)), target, replay.Options{Concurrency: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	// THEN each batch holds three, at the limit and not over it, and the payloads are what was counted
	if fmt.Sprint(target.records) != "[3 3 3 1]" || sum.Batches != 4 || sum.Delivered != 10 {
		t.Errorf("batches of %v records (%d batches); want [3 3 3 1] at a limit of three events", target.records, sum.Batches)
	}
	total := 0
	for i, n := range target.counted {
		total += n
		if n > target.PackLimit() || target.payloads[i] > n {
			t.Errorf("batch %d counts %d bytes (payload %d), over the %d-byte limit", i, n, target.payloads[i], target.PackLimit())
		}
	}
	if sum.Bytes != int64(total) {
		t.Errorf("summary counts %d bytes; the batches made count %d", sum.Bytes, total)
	}
}

func TestAnEventOverThePackLimitGoesAloneAndTheNextBatchStartsAfterIt(t *testing.T) {
	// GIVEN a small event, a big one (over the Event payload limit, under 6 MB), and small ones again
	small := lakeLines(100, 4, 1)
	big := strings.Replace(line(200, "k0", "big", "t"), `"type":"t"`, `"type":"t","pad":"`+strings.Repeat("p", 5000)+`"`, 1)
	lines := append(append(small[:1:1], big), small[1:]...)
	target := &payloads{FunctionTarget: replay.FunctionTarget{AsyncLimit: 4096}}

	// WHEN they are replayed into one lane
	sum, err := replay.RunSource(context.Background(), unitsOf(lines), target, replay.Options{Concurrency: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	// THEN the big one goes alone, between the batch before it and the one after it, and nothing is oversized
	if fmt.Sprint(target.records) != "[1 1 3]" || sum.Oversized != 0 || sum.Delivered != 5 {
		t.Errorf("batches of %v records, %d oversized; want [1 1 3] and none oversized", target.records, sum.Oversized)
	}
}

// streamBatches is a stream target (its record limit and sizes) that keeps each batch rather than write it.
type streamBatches struct {
	replay.StreamTarget
	payloads
}

func (s *streamBatches) Overhead() int                   { return s.StreamTarget.Overhead() }
func (s *streamBatches) Size(r *replay.Record) int       { return s.StreamTarget.Size(r) }
func (s *streamBatches) PackLimit() int                  { return s.StreamTarget.PackLimit() }
func (s *streamBatches) AloneLimit() int                 { return s.StreamTarget.AloneLimit() }
func (s *streamBatches) MaxRecords() int                 { return s.StreamTarget.MaxRecords() }
func (s *streamBatches) Check(ctx context.Context) error { return s.payloads.Check(ctx) }
func (s *streamBatches) Send(ctx context.Context, b *replay.Batch) (int, error) {
	return s.payloads.Send(ctx, b)
}

func TestAnEventAtTheRecordLimitIsSentAndOneByteMoreIsOversized(t *testing.T) {
	// GIVEN events of data + partition key d bytes, to a stream whose record limit is d, then d - 1
	lines := sameSize(3)
	probe := &streamBatches{}
	if _, err := replay.RunSource(context.Background(), unitsOf(lines[:1]), probe, replay.Options{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	d := probe.counted[0]
	dec, _ := lake.NewDecoder(strings.NewReader(lines[0]))
	first, _, _ := dec.Next()
	if d != len(first.Event)+len("k0") {
		t.Fatalf("a record counts %d bytes; PutRecords counts its data and partition key, %d", d, len(first.Event)+len("k0"))
	}
	for _, c := range []struct {
		limit           int
		sent, oversized int64
	}{{d, 3, 0}, {d - 1, 0, 3}} {
		target := &streamBatches{StreamTarget: replay.StreamTarget{MaxRecordBytes: c.limit}}
		sum, err := replay.RunSource(context.Background(), unitsOf(lines), target, replay.Options{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Delivered != c.sent || sum.Oversized != c.oversized || sum.Read != 3 {
			t.Errorf("record limit %d for records of %d bytes: %d delivered, %d oversized; want %d and %d", c.limit, d, sum.Delivered, sum.Oversized, c.sent, c.oversized)
		}
		if c.sent == 0 && (len(target.records) != 0 || sum.Batches != 0 || sum.Invocations != 0) {
			t.Errorf("nothing to send, yet %d batches were made and %v sent", sum.Batches, target.records)
		}
		if c.oversized > 0 && !strings.Contains(strings.Join(sum.Problems, "\n"), fmt.Sprintf("oversized: mem://events/2026/11/21/00/o line 1: %d bytes, more than the %d-byte limit of one call", d, c.limit)) {
			t.Errorf("problems %q; want each oversized event named with its size and the limit", sum.Problems)
		}
	}
	// The record limit is Kinesis's 1 MiB unless set; a batch is PutRecords' 500 records and 5 MiB.
	if st := (&replay.StreamTarget{}); st.AloneLimit() != 1<<20 || st.MaxRecords() != 500 || st.PackLimit() != 5<<20 || st.Overhead() != 0 {
		t.Errorf("stream target limits: record %d, batch %d records and %d bytes, overhead %d", st.AloneLimit(), st.MaxRecords(), st.PackLimit(), st.Overhead())
	}
}

func TestAnEventOverSixMegabytesIsReportedWithItsPayloadSizeAndNotSent(t *testing.T) {
	// GIVEN an event whose payload alone is over Lambda's 6 MB, between two small ones
	big := strings.Replace(line(2, "k0", "huge", "t"), `"type":"t"`, `"type":"t","blob":"`+strings.Repeat("x", 5<<20)+`"`, 1)
	lines := []string{line(1, "k0", "a", "t"), big, line(3, "k0", "b", "t")}
	l, err := lake.NewDecoder(strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	bigLine, _, _ := l.Next()
	record, _ := json.Marshal(bigLine.KinesisRecord(lake.Source{}))
	alone := len(`{"Records":[]}`) + len(record)

	// WHEN they are replayed into a function
	target := &payloads{}
	sum, err := replay.RunSource(context.Background(), unitsOf(lines), target, replay.Options{Concurrency: 1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	// THEN it is counted and named as oversized, with the size of the payload it would have made; the others go
	if sum.Oversized != 1 || sum.Delivered != 2 || fmt.Sprint(target.records) != "[2]" {
		t.Fatalf("%d oversized, %d delivered in batches of %v; want 1 oversized and the other 2 sent", sum.Oversized, sum.Delivered, target.records)
	}
	var size, limit int
	if _, err := fmt.Sscanf(sum.Problems[0], "oversized: mem://events/2026/11/21/00/o line 2: %d bytes, more than the %d-byte limit of one call", &size, &limit); err != nil {
		t.Fatalf("problem %q: %v", sum.Problems[0], err)
	}
	if limit != 6<<20 || size < alone || size > alone+1 {
		t.Errorf("reported %d bytes over a limit of %d; the payload alone is %d bytes, the limit 6 MiB", size, limit, alone)
	}
}
