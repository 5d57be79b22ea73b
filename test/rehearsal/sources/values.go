package sources

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// props reads template properties as CloudFormation hands them over: a value may be a string ("100", "true"), a
// json.Number (cfn's resolved properties), a float64 (encoding/json without UseNumber), an int or a bool. The first
// problem is kept in err.
type props struct {
	m    map[string]any
	what string
	err  error
}

func (p *props) fail(name string, v any, reason string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s property %s = %v: %s", p.what, name, v, reason)
	}
}

func (p *props) has(name string) bool {
	v, ok := p.m[name]
	return ok && v != nil
}

func (p *props) str(name string) string {
	v, ok := p.m[name]
	if !ok || v == nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int32:
		return strconv.Itoa(int(v))
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	}
	p.fail(name, v, "must be a string")
	return ""
}

// integer returns the property as a whole number, def when it is absent.
func (p *props) integer(name string, def int) int {
	s := strings.TrimSpace(p.str(name))
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int(f)) {
			p.fail(name, s, "must be a whole number")
			return def
		}
		n = int(f)
	}
	return n
}

func (p *props) boolean(name string, def bool) bool {
	s := strings.TrimSpace(p.str(name))
	if s == "" {
		return def
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(name, s, "must be true or false")
		return def
	}
	return b
}

func (p *props) obj(name string) *props {
	v, ok := p.m[name]
	if !ok || v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(name, v, "must be an object")
		return nil
	}
	return &props{m: m, what: p.what + " " + name}
}

func (p *props) list(name string) []any {
	v, ok := p.m[name]
	if !ok || v == nil {
		return nil
	}
	switch l := v.(type) {
	case []any:
		return l
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out
	}
	p.fail(name, v, "must be a list")
	return nil
}

func (p *props) strs(name string) []string {
	var out []string
	for i, it := range p.list(name) {
		s, ok := it.(string)
		if !ok {
			p.fail(fmt.Sprintf("%s[%d]", name, i), it, "must be a string")
			return nil
		}
		out = append(out, s)
	}
	return out
}

// child wraps an item of a list of objects.
func (p *props) child(name string, i int, v any) *props {
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(fmt.Sprintf("%s[%d]", name, i), v, "must be an object")
		return nil
	}
	return &props{m: m, what: fmt.Sprintf("%s %s[%d]", p.what, name, i)}
}

// newUUID returns a random version 4 UUID in its canonical text form.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// seqLess compares two stream sequence numbers (decimal strings of any length) numerically.
func seqLess(a, b string) bool {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// isContextError reports whether err comes from ctx having ended, rather than from the function.
func isContextError(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// millis truncates t to the millisecond, the precision of Kinesis's and DynamoDB's arrival timestamps.
func millis(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// rfc3339Millis formats t as AWS's invocation records do: 2019-11-14T00:38:06.021Z.
func rfc3339Millis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
