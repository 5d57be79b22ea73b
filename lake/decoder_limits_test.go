package lake_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/eventlake/eventlake/lake"
)

// eventOfLength returns a bare event line of exactly n bytes.
func eventOfLength(t *testing.T, n int) string {
	t.Helper()
	const frame = len(`{"id":""}`)
	if n < frame {
		t.Fatalf("no event line of %d bytes", n)
	}
	return `{"id":"` + strings.Repeat("x", n-frame) + `"}`
}

func TestDecoderLineLimitCountsTheLineWithoutItsNewline(t *testing.T) {
	// The limit is larger than the decoder's 64 KiB read buffer, so the lines at the limit are read in several chunks.
	const limit = 100_000
	for _, tc := range []struct {
		name   string
		length int
		last   bool // the object's last line, with no newline after it
		accept bool
	}{
		{"at the limit", limit, false, true},
		{"one byte over", limit + 1, false, false},
		{"last line at the limit", limit, true, true},
		{"last line one byte over", limit + 1, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// GIVEN an object whose second line is the line under test
			object := `{"id":"1"}` + "\n" + eventOfLength(t, tc.length)
			if !tc.last {
				object += "\n" + `{"id":"2"}`
			}

			// WHEN it is decoded with a limit of 100,000 bytes
			dec, err := lake.NewDecoder(strings.NewReader(object), lake.WithMaxLineBytes(limit))
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			var malformed []error
			for i := 0; i < 10; i++ {
				_, n, err := dec.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				var m *lake.MalformedLineError
				if errors.As(err, &m) {
					malformed = append(malformed, err)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, n)
			}

			// THEN a line of up to the limit is decoded; a longer one is skipped and reported with the limit it broke
			if tc.accept {
				if len(malformed) != 0 || len(lines) < 2 || lines[1] != 2 {
					t.Errorf("a %d-byte line with a %d-byte limit: decoded lines %v, malformed %v; want line 2 decoded",
						tc.length, limit, lines, malformed)
				}
				return
			}
			want := "line 2: line is longer than the 100000-byte limit"
			if len(malformed) != 1 || malformed[0].Error() != want {
				t.Errorf("a %d-byte line with a %d-byte limit: malformed %v, want one error %q", tc.length, limit, malformed, want)
			}
			// AND the lines around it are still decoded
			wantLines := []int{1, 3}
			if tc.last {
				wantLines = []int{1}
			}
			if !equalInts(lines, wantLines) {
				t.Errorf("decoded lines %v around the long line, want %v", lines, wantLines)
			}
		})
	}
}

func TestDecoderDefaultLineLimitIs12MiB(t *testing.T) {
	// A Kinesis record holds at most 10 MiB and the lake line adds its metadata: a decoder made without options, as
	// the replay makes it, must read a 12 MiB line and skip a longer one. (The lines are arrays, which the decoder
	// refuses at their first byte: the test needs no 12 MiB JSON parse to tell a line read from a line skipped.)
	for _, tc := range []struct {
		length int
		want   string
	}{
		{12 << 20, "line 1: want a JSON object, got a JSON array"},
		{12<<20 + 1, "line 1: line is longer than the 12582912-byte limit"},
	} {
		line := io.MultiReader(strings.NewReader("["), io.LimitReader(digits{}, int64(tc.length-2)), strings.NewReader("]\n"))
		dec, err := lake.NewDecoder(line)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err = dec.Next(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("a %d-byte line: error %.100v, want %q", tc.length, err, tc.want)
		}
	}
}

// digits is an endless stream of the digit 1.
type digits struct{}

func (digits) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '1'
	}
	return len(p), nil
}
