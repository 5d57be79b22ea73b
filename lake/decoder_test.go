package lake_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

type decoded struct {
	events    []string // compact events, in order
	lines     []int
	malformed []int
}

func decodeAll(t *testing.T, r io.Reader, opts ...lake.DecoderOption) decoded {
	t.Helper()
	dec, err := lake.NewDecoder(r, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var d decoded
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("decoder does not end")
		}
		l, n, err := dec.Next()
		var m *lake.MalformedLineError
		switch {
		case errors.Is(err, io.EOF):
			return d
		case errors.As(err, &m):
			if m.Line != n {
				t.Errorf("malformed error names line %d, Next returned %d", m.Line, n)
			}
			d.malformed = append(d.malformed, m.Line)
		case err != nil:
			t.Fatalf("fatal error: %v", err)
		default:
			d.events = append(d.events, string(l.Event))
			d.lines = append(d.lines, n)
		}
	}
}

const wrapped = `{"kinesisRecordMetadata":{"sequenceNumber":"1","subsequenceNumber":0,"partitionKey":"k","shardId":"shardId-0","approximateArrivalTimestamp":1},"event":{"id":"a"}}`

func TestDecoderAcceptsEveryFormOfTheContract(t *testing.T) {
	input := strings.Join([]string{
		wrapped,                 // 1: wrapped
		`{"id":"b","type":"t"}`, // 2: bare event
		"",                      // 3: blank
		"   \t",                 // 4: blank with spaces
		wrapped + wrapped,       // 5: concatenated, no newline
		`{"id":"c"} not json`,   // 6: one event, then garbage: malformed after the event
		`[1,2]`,                 // 7: not an object
		`{"kinesisRecordMetadata":{"sequenceNumber":"9"},"event":"x"}`, // 8: wrapped, event not an object
		`{"id":"d"}`, // 9: last line, no newline at the end
	}, "\n")
	for name, r := range map[string]func() io.Reader{
		"plain": func() io.Reader { return strings.NewReader(input) },
		"gzip": func() io.Reader {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte(input))
			zw.Close()
			return &b
		},
		"crlf": func() io.Reader { return strings.NewReader(strings.ReplaceAll(input, "\n", "\r\n")) },
	} {
		t.Run(name, func(t *testing.T) {
			d := decodeAll(t, r())
			wantEvents := []string{`{"id":"a"}`, `{"id":"b","type":"t"}`, `{"id":"a"}`, `{"id":"a"}`, `{"id":"c"}`, `{"id":"d"}`}
			wantLines := []int{1, 2, 5, 5, 6, 9}
			if strings.Join(d.events, " ") != strings.Join(wantEvents, " ") {
				t.Errorf("events %v, want %v", d.events, wantEvents)
			}
			if !equalInts(d.lines, wantLines) {
				t.Errorf("line numbers %v, want %v", d.lines, wantLines)
			}
			if !equalInts(d.malformed, []int{6, 7, 8}) {
				t.Errorf("malformed lines %v, want [6 7 8]", d.malformed)
			}
		})
	}
}

func TestDecoderSkipsALineOverTheLimitAndGoesOn(t *testing.T) {
	long := `{"id":"` + strings.Repeat("x", 200_000) + `"}`
	d := decodeAll(t, strings.NewReader(`{"id":"1"}`+"\n"+long+"\n"+`{"id":"2"}`), lake.WithMaxLineBytes(100_000))
	if strings.Join(d.events, " ") != `{"id":"1"} {"id":"2"}` || !equalInts(d.malformed, []int{2}) {
		t.Errorf("got events %v malformed %v", d.events, d.malformed)
	}
}

func TestDecoderEmptyObjects(t *testing.T) {
	for _, in := range []string{"", "\n\n", " \r\n"} {
		d := decodeAll(t, strings.NewReader(in))
		if len(d.events) != 0 || len(d.malformed) != 0 {
			t.Errorf("%q: events %v, malformed %v; want none", in, d.events, d.malformed)
		}
	}
}

func TestDecoderReportsABrokenGzipStreamAsFatal(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.Repeat(wrapped+"\n", 100)))
	zw.Close()
	dec, err := lake.NewDecoder(bytes.NewReader(b.Bytes()[:b.Len()/2]))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		_, _, err := dec.Next()
		var m *lake.MalformedLineError
		if err == nil || errors.As(err, &m) {
			continue
		}
		if errors.Is(err, io.EOF) {
			t.Fatal("a truncated gzip object ended as if complete")
		}
		return
	}
	t.Fatal("decoder does not end")
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
