package lake_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

// FuzzDecoder feeds the decoder arbitrary objects, plain and gzip: it must never panic or hang, every line it
// returns holds a JSON object event, and line numbers never go backwards.
func FuzzDecoder(f *testing.F) {
	for _, seed := range []string{
		wrapped + "\n",
		`{"id":"b"}` + "\n\n" + wrapped + wrapped,
		"not json\n{}\n[1]\n",
		`{"kinesisRecordMetadata":{},"event":{}}`,
		`{"kinesisRecordMetadata":{"sequenceNumber":1},"event":[]}`,
		"\x1f\x8b\x08",
		"{\"a\":\"\\u00e9\"}\r\n{}",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if compress {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(data)
			zw.Close()
			data = b.Bytes()
		}
		dec, err := lake.NewDecoder(bytes.NewReader(data), lake.WithMaxLineBytes(1<<12))
		if err != nil {
			return
		}
		last := 0
		for i := 0; ; i++ {
			if i > len(data)+10 {
				t.Fatalf("decoder returned more results (%d) than the object has bytes (%d)", i, len(data))
			}
			l, n, err := dec.Next()
			if n < last {
				t.Fatalf("line numbers went backwards: %d after %d", n, last)
			}
			last = n
			var m *lake.MalformedLineError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &m):
				continue
			case err != nil:
				return // a broken gzip stream: final
			}
			if len(l.Event) == 0 || l.Event[0] != '{' {
				t.Fatalf("line %d: event %q is not a JSON object", n, l.Event)
			}
		}
	})
}
