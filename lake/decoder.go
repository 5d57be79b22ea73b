package lake

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultMaxLineBytes bounds one line of a lake object. A Kinesis record holds at most 10 MiB; the line adds its
// metadata, so 12 MiB holds any line the transformation writes.
const DefaultMaxLineBytes = 12 << 20

// MalformedLineError reports a line that is not a lake line. It is not fatal: the decoder goes on with the next line.
type MalformedLineError struct {
	// Line is the 1-based line number within the (decompressed) object.
	Line int
	// Err says what is wrong with it.
	Err error
}

// Error names the line and what is wrong with it.
func (e *MalformedLineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *MalformedLineError) Unwrap() error { return e.Err }

// Decoder reads lake lines from an object, gzip-compressed or plain, with memory bounded by the longest line.
type Decoder struct {
	r        *bufio.Reader
	maxLine  int
	line     int
	buf      []byte
	pending  *json.Decoder // values left on the current line
	pendLine int
	err      error
}

// DecoderOption configures a [Decoder].
type DecoderOption func(*Decoder)

// WithMaxLineBytes sets the longest line the decoder accepts; a longer line is skipped and reported as malformed.
func WithMaxLineBytes(n int) DecoderOption {
	return func(d *Decoder) { d.maxLine = n }
}

// NewDecoder returns a decoder of r. Gzip is detected by its magic bytes, so the object's name and content encoding
// don't matter.
func NewDecoder(r io.Reader, opts ...DecoderOption) (*Decoder, error) {
	d := &Decoder{maxLine: DefaultMaxLineBytes}
	for _, o := range opts {
		o(d)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(2)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read object: %w", err)
	}
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip object: %w", err)
		}
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	d.r = br
	return d, nil
}

// Next returns the next lake line of the object and the 1-based number of the line it was read from (objects
// concatenated on one line share its number). At the end it returns [io.EOF]. A [*MalformedLineError] names a line that
// was skipped; call Next again to go on. Any other error (a broken gzip stream, a failed read) is final.
func (d *Decoder) Next() (Line, int, error) {
	for {
		if d.pending != nil {
			l, err := d.nextValue()
			if err == nil {
				return l, d.pendLine, nil
			}
			d.pending = nil
			if !errors.Is(err, io.EOF) {
				return Line{}, d.pendLine, &MalformedLineError{Line: d.pendLine, Err: err}
			}
		}
		if d.err != nil {
			return Line{}, d.line, d.err
		}
		raw, tooLong, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				d.err = io.EOF
			} else {
				d.err = fmt.Errorf("read line %d: %w", d.line+1, err)
			}
			if len(raw) == 0 && !tooLong {
				continue
			}
		}
		d.line++
		if tooLong {
			return Line{}, d.line, &MalformedLineError{Line: d.line, Err: fmt.Errorf("line is longer than the %d-byte limit", d.maxLine)}
		}
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue // blank lines are allowed
		}
		// The common line holds one value: one pass to decode it. Only objects concatenated on one line need the
		// streaming decoder.
		l, err := parseValue(raw)
		if err == nil {
			return l, d.line, nil
		}
		if !strings.Contains(err.Error(), "after top-level value") {
			return Line{}, d.line, &MalformedLineError{Line: d.line, Err: err}
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		d.pending, d.pendLine = dec, d.line
	}
}

// nextValue decodes the next JSON value of the current line as a lake line.
func (d *Decoder) nextValue() (Line, error) {
	var raw json.RawMessage
	if err := d.pending.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return Line{}, io.EOF
		}
		return Line{}, fmt.Errorf("not JSON: %w", err)
	}
	return parseValue(raw)
}

// parseValue interprets one JSON value as a wrapped lake line or a bare event.
func parseValue(raw json.RawMessage) (Line, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return Line{}, fmt.Errorf("want a JSON object, got %s", describe(raw))
	}
	var w struct {
		Metadata *Metadata       `json:"kinesisRecordMetadata"`
		Event    json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return Line{}, fmt.Errorf("lake line: %w", err)
	}
	if w.Metadata == nil {
		return Line{Event: raw}, nil // a bare event
	}
	if len(w.Event) == 0 || w.Event[0] != '{' {
		return Line{}, fmt.Errorf("field \"event\" must be a JSON object, got %s", describe(w.Event))
	}
	return Line{Metadata: w.Metadata, Event: w.Event}, nil
}

// readLine reads one line without its newline. A line longer than maxLine is consumed and dropped, with tooLong set.
func (d *Decoder) readLine() (line []byte, tooLong bool, err error) {
	d.buf = d.buf[:0]
	for {
		chunk, err := d.r.ReadSlice('\n')
		if !tooLong {
			if len(d.buf)+len(bytes.TrimSuffix(chunk, []byte{'\n'})) > d.maxLine { // the newline is no part of the line
				tooLong = true
				d.buf = d.buf[:0]
			} else {
				d.buf = append(d.buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		return bytes.TrimSuffix(d.buf, []byte{'\n'}), false, err
	}
}
