package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// A Filter is the filter criteria of an event source mapping: records that match at least one of its patterns reach
// the function, the others are dropped before the batch is made (Lambda event filtering,
// https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html). A Filter without patterns lets
// everything through.
//
// It implements this subset of the pattern syntax, which covers what eventlake's constructs emit (exact event types
// and "prefix*" globs on data.type for subscriptions, eventName INSERT for the micro store's trigger):
//
//   - nested objects, matched field by field;
//   - lists of exact values: strings, numbers (compared as numbers), true, false and null;
//   - {"prefix": "s"}, {"suffix": "s"}, {"equals-ignore-case": "s"};
//   - {"exists": true|false};
//   - {"anything-but": value or [values]} with exact values.
//
// Rules in one list are ORed, fields of an object ANDed, a value that is a JSON array matches when any element does.
// Any other operator ("numeric", "cidr", "wildcard", an anything-but of an object, …) is refused when the filter is
// made, so a pattern this package cannot evaluate never silently passes or drops records.
type Filter struct {
	patterns []*patternNode
	sources  []string
}

type patternNode struct {
	fields map[string]*patternNode // an object of the pattern
	rules  []rule                  // a list of the pattern (a leaf)
	leaf   bool
}

type rule struct {
	op    string // exact, prefix, suffix, equals-ignore-case, exists, anything-but
	value any    // exact: string, json.Number, bool or nil
	str   string
	exist bool
	but   []any
}

// NewFilter compiles filter patterns, each a JSON document as in FilterCriteria.Filters[].Pattern.
func NewFilter(patterns []string) (*Filter, error) {
	f := &Filter{sources: patterns}
	for i, p := range patterns {
		dec := json.NewDecoder(strings.NewReader(p))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("filter pattern %d %q: %v", i, p, err)
		}
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("filter pattern %d %q: must be a JSON object", i, p)
		}
		n, err := compileObject(obj, "")
		if err != nil {
			return nil, fmt.Errorf("filter pattern %d %q: %v", i, p, err)
		}
		f.patterns = append(f.patterns, n)
	}
	return f, nil
}

// Patterns returns the patterns the filter was made of.
func (f *Filter) Patterns() []string { return append([]string(nil), f.sources...) }

// Match reports whether doc (a JSON document decoded with UseNumber, as the record Lambda filters) matches any
// pattern; true when the filter has no pattern.
func (f *Filter) Match(doc any) bool {
	if f == nil || len(f.patterns) == 0 {
		return true
	}
	for _, p := range f.patterns {
		if p.match(doc) {
			return true
		}
	}
	return false
}

// MatchJSON is Match on a JSON document; a document that is not JSON matches only a filter without patterns.
func (f *Filter) MatchJSON(doc []byte) bool {
	if f == nil || len(f.patterns) == 0 {
		return true
	}
	v, ok := decodeJSON(doc)
	return ok && f.Match(v)
}

// Keys returns the top-level keys the patterns filter on, sorted.
func (f *Filter) Keys() []string {
	seen := map[string]bool{}
	for _, p := range f.patterns {
		for k := range p.fields {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func decodeJSON(b []byte) (any, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

func compileObject(obj map[string]any, path string) (*patternNode, error) {
	n := &patternNode{fields: map[string]*patternNode{}}
	if len(obj) == 0 {
		return nil, fmt.Errorf("%sempty object", at(path))
	}
	for k, v := range obj {
		p := k
		if path != "" {
			p = path + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			c, err := compileObject(v, p)
			if err != nil {
				return nil, err
			}
			n.fields[k] = c
		case []any:
			c := &patternNode{leaf: true}
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: an empty list matches nothing", p)
			}
			for _, it := range v {
				r, err := compileRule(it, p)
				if err != nil {
					return nil, err
				}
				c.rules = append(c.rules, r)
			}
			n.fields[k] = c
		default:
			return nil, fmt.Errorf("%s: %v must be an object or a list of rules", p, v)
		}
	}
	return n, nil
}

func at(path string) string {
	if path == "" {
		return "pattern: "
	}
	return path + ": "
}

func compileRule(v any, path string) (rule, error) {
	switch v := v.(type) {
	case string, json.Number, bool, nil:
		return rule{op: "exact", value: v}, nil
	case map[string]any:
		if len(v) != 1 {
			return rule{}, fmt.Errorf("%s: a rule object must have exactly one operator, got %v", path, v)
		}
		for op, arg := range v {
			switch op {
			case "prefix", "suffix", "equals-ignore-case":
				s, ok := arg.(string)
				if !ok {
					return rule{}, fmt.Errorf("%s: %s takes a string, got %v (not emulated)", path, op, arg)
				}
				return rule{op: op, str: s}, nil
			case "exists":
				b, ok := arg.(bool)
				if !ok {
					return rule{}, fmt.Errorf("%s: exists takes true or false, got %v", path, arg)
				}
				return rule{op: op, exist: b}, nil
			case "anything-but":
				var but []any
				switch a := arg.(type) {
				case string, json.Number, bool, nil:
					but = []any{a}
				case []any:
					for _, x := range a {
						switch x.(type) {
						case string, json.Number, bool, nil:
							but = append(but, x)
						default:
							return rule{}, fmt.Errorf("%s: anything-but of %v is not emulated", path, x)
						}
					}
				default:
					return rule{}, fmt.Errorf("%s: anything-but of %v is not emulated", path, arg)
				}
				return rule{op: op, but: but}, nil
			default:
				return rule{}, fmt.Errorf("%s: the %q operator is not emulated by the rehearsal's filter", path, op)
			}
		}
	}
	return rule{}, fmt.Errorf("%s: %v is not a rule", path, v)
}

func (n *patternNode) match(v any) bool {
	obj, _ := v.(map[string]any)
	for k, c := range n.fields {
		fv, present := obj[k]
		if c.leaf {
			if !c.matchRules(fv, present) {
				return false
			}
			continue
		}
		if !present {
			fv = nil
		}
		if arr, ok := fv.([]any); ok {
			hit := false
			for _, e := range arr {
				if c.match(e) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
			continue
		}
		if !c.match(fv) {
			return false
		}
	}
	return true
}

func (n *patternNode) matchRules(v any, present bool) bool {
	for _, r := range n.rules {
		if r.op == "exists" {
			if r.exist == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if r.matchValue(e) {
					return true
				}
			}
			continue
		}
		if r.matchValue(v) {
			return true
		}
	}
	return false
}

func (r rule) matchValue(v any) bool {
	switch r.op {
	case "exact":
		return equalValues(r.value, v)
	case "prefix":
		s, ok := v.(string)
		return ok && strings.HasPrefix(s, r.str)
	case "suffix":
		s, ok := v.(string)
		return ok && strings.HasSuffix(s, r.str)
	case "equals-ignore-case":
		s, ok := v.(string)
		return ok && strings.EqualFold(s, r.str)
	case "anything-but":
		switch v.(type) {
		case map[string]any:
			return false
		}
		for _, b := range r.but {
			if equalValues(b, v) {
				return false
			}
		}
		return true
	}
	return false
}

func equalValues(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		s, ok := b.(string)
		return ok && s == a
	case bool:
		x, ok := b.(bool)
		return ok && x == a
	case json.Number:
		var bn json.Number
		switch x := b.(type) {
		case json.Number:
			bn = x
		case float64:
			bn = json.Number(fmt.Sprint(x))
		default:
			return false
		}
		af, err1 := a.Float64()
		bf, err2 := bn.Float64()
		return err1 == nil && err2 == nil && af == bf
	}
	return false
}
