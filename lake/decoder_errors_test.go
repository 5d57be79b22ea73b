package lake_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

// failingReader hands out its data, then fails with err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestDecoderFailedReadIsFinalAndNamesTheLineItStoppedAt(t *testing.T) {
	// GIVEN an object whose read fails after three whole lines
	broken := errors.New("connection reset by peer")
	dec, err := lake.NewDecoder(&failingReader{data: `{"id":"1"}` + "\n" + `{"id":"2"}` + "\n" + `{"id":"3"}` + "\n", err: broken})
	if err != nil {
		t.Fatal(err)
	}

	// WHEN it is decoded to the end
	var events int
	for ; events < 10; events++ {
		_, _, err = dec.Next()
		if err != nil {
			break
		}
	}

	// THEN the three lines are read, then the error says which line could not be read, and wraps the cause
	if events != 3 {
		t.Errorf("%d events before the failure, want 3", events)
	}
	if want := "read line 4: connection reset by peer"; err == nil || err.Error() != want || !errors.Is(err, broken) {
		t.Fatalf("error %v, want %q wrapping the read error", err, want)
	}
	// AND the error is final: the decoder does not go on after it
	if _, _, again := dec.Next(); !errors.Is(again, broken) {
		t.Errorf("Next after the failure returned %v, want the same failure", again)
	}
}

func TestMalformedLineErrorQuotesAtMost40BytesOfTheValue(t *testing.T) {
	array := func(n int) string { return "[" + strings.Repeat("1", n-2) + "]" }
	for _, tc := range []struct {
		line, want string
	}{
		{array(40), "line 1: want a JSON object, got a JSON array (" + array(40) + ")"},
		{array(41), "line 1: want a JSON object, got a JSON array (" + array(41)[:40] + "…)"},
		{`"text"`, `line 1: want a JSON object, got a JSON string ("text")`},
		{`true`, "line 1: want a JSON object, got a JSON boolean (true)"},
		{`null`, "line 1: want a JSON object, got JSON null (null)"},
		{`12.5`, "line 1: want a JSON object, got a JSON number (12.5)"},
		{`{"kinesisRecordMetadata":{},"event":[]}`, `line 1: field "event" must be a JSON object, got a JSON array ([])`},
		{`{"kinesisRecordMetadata":{}}`, `line 1: field "event" must be a JSON object, got nothing`},
	} {
		// GIVEN a line that is not a lake line WHEN it is decoded
		dec, err := lake.NewDecoder(strings.NewReader(tc.line))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = dec.Next()

		// THEN the error names the line, what it holds and no more than 40 bytes of it, marked as cut when it is
		var m *lake.MalformedLineError
		if !errors.As(err, &m) || err.Error() != tc.want {
			t.Errorf("%s: error %v, want %s", tc.line, err, fmt.Sprintf("%q", tc.want))
		}
	}
}
