package cfn

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// props reads the resolved properties of a resource (or a nested object of them) and remembers which ones it read,
// so that what a materializer does not apply is reported instead of silently dropped. The first malformed value is
// kept in err.
type props struct {
	m        map[string]any
	path     string
	used     map[string]bool
	children []*props
	errp     *error
}

func newProps(m map[string]any) *props {
	var err error
	if m == nil {
		m = map[string]any{}
	}
	return &props{m: m, used: map[string]bool{}, errp: &err}
}

func (p *props) err() error { return *p.errp }

func (p *props) fail(key, format string, args ...any) {
	if *p.errp == nil {
		*p.errp = fmt.Errorf("property %s: %s", join(p.path, key), fmt.Sprintf(format, args...))
	}
}

// has reports whether the property is set.
func (p *props) has(key string) bool {
	_, ok := p.m[key]
	return ok
}

// raw returns a property as resolved.
func (p *props) raw(key string) (any, bool) {
	v, ok := p.m[key]
	if ok {
		p.used[key] = true
	}
	return v, ok
}

// ignore marks properties as read: they need no materialization (or are applied by another call).
func (p *props) ignore(keys ...string) {
	for _, k := range keys {
		p.used[k] = true
	}
}

// str returns a scalar property as a string, "" when it is absent.
func (p *props) str(key string) string {
	v, ok := p.raw(key)
	if !ok {
		return ""
	}
	s, ok := scalarString(v)
	if !ok {
		p.fail(key, "%s is not a string", compact(v))
	}
	return s
}

// strp returns a scalar property as a *string, nil when it is absent.
func (p *props) strp(key string) *string {
	if !p.has(key) {
		return nil
	}
	s := p.str(key)
	return &s
}

// integer returns an integer property and whether it is set.
func (p *props) integer(key string) (int, bool) {
	v, ok := p.raw(key)
	if !ok {
		return 0, false
	}
	n, err := toInt(v)
	if err != nil {
		p.fail(key, "%v", err)
	}
	return n, true
}

// int32p returns an integer property as an *int32, nil when it is absent.
func (p *props) int32p(key string) *int32 {
	n, ok := p.integer(key)
	if !ok {
		return nil
	}
	v := int32(n)
	return &v
}

// int64p returns an integer property as an *int64, nil when it is absent.
func (p *props) int64p(key string) *int64 {
	n, ok := p.integer(key)
	if !ok {
		return nil
	}
	v := int64(n)
	return &v
}

// boolean returns a boolean property (true, false, "true" or "false") and whether it is set.
func (p *props) boolean(key string) (bool, bool) {
	v, ok := p.raw(key)
	if !ok {
		return false, false
	}
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		if err == nil {
			return b, true
		}
	}
	p.fail(key, "%s is not a boolean", compact(v))
	return false, true
}

// boolp returns a boolean property as a *bool, nil when it is absent.
func (p *props) boolp(key string) *bool {
	b, ok := p.boolean(key)
	if !ok {
		return nil
	}
	return &b
}

// obj returns a nested object property, nil when it is absent.
func (p *props) obj(key string) *props {
	v, ok := p.raw(key)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(key, "%s is not an object", compact(v))
		return nil
	}
	return p.child(m, join(p.path, key))
}

func (p *props) child(m map[string]any, path string) *props {
	c := &props{m: m, path: path, used: map[string]bool{}, errp: p.errp}
	p.children = append(p.children, c)
	return c
}

// objs returns a list-of-objects property, nil when it is absent.
func (p *props) objs(key string) []*props {
	v, ok := p.raw(key)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.fail(key, "%s is not a list", compact(v))
		return nil
	}
	out := make([]*props, 0, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			p.fail(fmt.Sprintf("%s[%d]", key, i), "%s is not an object", compact(e))
			continue
		}
		out = append(out, p.child(m, fmt.Sprintf("%s[%d]", join(p.path, key), i)))
	}
	return out
}

// strs returns a list-of-strings property (a single string is a list of one), nil when it is absent.
func (p *props) strs(key string) []string {
	v, ok := p.raw(key)
	if !ok {
		return nil
	}
	if s, ok := scalarString(v); ok {
		return []string{s}
	}
	l, ok := v.([]any)
	if !ok {
		p.fail(key, "%s is not a list", compact(v))
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := scalarString(e)
		if !ok {
			p.fail(key, "%s is not a string", compact(e))
			continue
		}
		out = append(out, s)
	}
	return out
}

// strMap returns an object property of scalars as a map of strings, nil when it is absent.
func (p *props) strMap(key string) map[string]string {
	v, ok := p.raw(key)
	if !ok {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(key, "%s is not an object", compact(v))
		return nil
	}
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := scalarString(e)
		if !ok {
			p.fail(join(key, k), "%s is not a string", compact(e))
			continue
		}
		out[k] = s
	}
	return out
}

// jsonDoc returns a property that is a JSON document in the API (a policy, an event pattern): an object is
// serialized, a string is taken as it is. "" when it is absent.
func (p *props) jsonDoc(key string) string {
	v, ok := p.raw(key)
	if !ok {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		p.fail(key, "%v", err)
	}
	return string(b)
}

// unused returns the paths of the properties nobody read, sorted.
func (p *props) unused() []string {
	var out []string
	for k := range p.m {
		if !p.used[k] {
			out = append(out, join(p.path, k))
		}
	}
	for _, c := range p.children {
		out = append(out, c.unused()...)
	}
	slices.Sort(out)
	return out
}
