package replay_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventlake/eventlake/replay"
)

func TestOptionsAreAcceptedUpToTheirLimitsAndRefusedPastThem(t *testing.T) {
	from := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		opts replay.Options
		// refused names the field and says the value and the limit; "" when accepted
		refused string
	}{
		{"batch size 1", replay.Options{BatchSize: 1}, ""},
		{"batch size 10000", replay.Options{BatchSize: 10000}, ""},
		{"batch size 10001", replay.Options{BatchSize: 10001}, "batchSize 10001: must be from 1 to 10000"},
		{"batch size -1", replay.Options{BatchSize: -1}, "batchSize -1: must be from 1 to 10000"},
		{"concurrency 1", replay.Options{Concurrency: 1}, ""},
		{"concurrency 64", replay.Options{Concurrency: 64}, ""},
		{"concurrency 65", replay.Options{Concurrency: 65}, "concurrency 65: must be from 1 to 64"},
		{"concurrency -2", replay.Options{Concurrency: -2}, "concurrency -2: must be from 1 to 64"},
		{"rate 0.5", replay.Options{Rate: 0.5}, ""},
		{"rate -1.25", replay.Options{Rate: -1.25}, "rate -1.25: must not be negative (0 is no limit)"},
		{"async limit 1024", replay.Options{AsyncLimit: 1024}, ""},
		{"async limit 1023", replay.Options{AsyncLimit: 1023}, "asyncLimit 1023: must be from 1024 to 6291456 bytes"},
		{"async limit 6 MiB", replay.Options{AsyncLimit: 6 << 20}, ""},
		{"async limit over 6 MiB", replay.Options{AsyncLimit: 6<<20 + 1}, "asyncLimit 6291457: must be from 1024 to 6291456 bytes"},
		{"to at from", replay.Options{From: from, To: from}, ""},
		{"to only", replay.Options{To: from}, ""},
		{"to before from", replay.Options{From: from, To: from.Add(-time.Millisecond)},
			`to "2026-11-21T08:59:59.999Z": before "from" "2026-11-21T09:00:00Z"; must be at or after it`},
		{"exact type", replay.Options{Type: "order-created"}, ""},
		{"bad glob", replay.Options{Type: "order-["}, `type "order-[": not a valid glob`},
	} {
		src := unitsOf(lakeLines(0, 3, 1))
		sum, err := replay.RunSource(context.Background(), src, &batches{}, c.opts, nil, nil)
		if c.refused == "" {
			if err != nil || !sum.Done {
				t.Errorf("%s: refused (%v) or not done (%+v)", c.name, err, sum)
			}
			continue
		}
		var ie *replay.InputError
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), c.refused) {
			t.Errorf("%s: error %v; want an *InputError %q", c.name, err, c.refused)
		}
		if len(src.after) != 0 || src.opens.Load() != 0 {
			t.Errorf("%s: the source was read although the options were refused", c.name)
		}
	}
}

func TestRefusedOptionsCountNothing(t *testing.T) {
	// Count checks the options as Run does, before it lists anything.
	var ie *replay.InputError
	if _, _, err := replay.Count(context.Background(), nil, replay.Options{Bucket: "b", Concurrency: 100}, ""); !errors.As(err, &ie) || ie.Field != "concurrency" {
		t.Errorf("Count with concurrency 100: %v; want an *InputError for concurrency", err)
	}
}

func TestTypeFilter(t *testing.T) {
	var lines []string
	for i, typ := range []string{"order-created", "order-cancelled", "order", "order-created-v2", "invoice-created", "order-x"} {
		lines = append(lines, line(i, "k", typ, typ))
	}
	for _, c := range []struct {
		typ  string
		want int64
	}{
		{"", 6},
		{"order-created", 1}, // exact: not a prefix, not a suffix
		{"order", 1},
		{"order-*", 4},
		{"*-created", 2},
		{"order-?", 1},
		{"order-c[a-z]*", 3},
		{"nothing", 0},
	} {
		sum, err := replay.RunSource(context.Background(), unitsOf(lines), &batches{}, replay.Options{Type: c.typ}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Delivered != c.want || sum.Filtered != 6-c.want || sum.Read != 6 {
			t.Errorf("type %q: %d delivered, %d filtered of %d read; want %d delivered", c.typ, sum.Delivered, sum.Filtered, sum.Read, c.want)
		}
	}
}

func TestTimeFilterKeepsBothEnds(t *testing.T) {
	// Events 0..9 arrived at 1795000000000 + 0..9 ms.
	at := func(ms int64) time.Time { return time.UnixMilli(1795000000000 + ms) }
	for _, c := range []struct {
		from, to time.Time
		want     int64
	}{
		{at(3), at(6), 4},
		{at(3), time.Time{}, 7},
		{time.Time{}, at(6), 7},
		{at(5), at(5), 1},
		{at(3).Add(time.Microsecond), at(6).Add(-time.Microsecond), 2},
	} {
		sum, err := replay.RunSource(context.Background(), unitsOf(lakeLines(0, 10, 3)), &batches{}, replay.Options{From: c.from, To: c.to}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Delivered != c.want || sum.Filtered != 10-c.want {
			t.Errorf("from %v to %v: %d delivered, %d filtered; want %d delivered", c.from, c.to, sum.Delivered, sum.Filtered, c.want)
		}
	}
}
