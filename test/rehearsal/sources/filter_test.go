package sources

import (
	"strings"
	"testing"
)

func TestFilter(t *testing.T) {
	for _, c := range []struct {
		pattern string
		match   []string
		miss    []string
	}{
		// What constructs/microstore emits: exact types and "prefix*" globs in one list.
		{`{"data":{"type":["refund",{"prefix":"order-"}]}}`,
			[]string{`{"data":{"type":"refund"}}`, `{"data":{"type":"order-created"}}`, `{"data":{"type":["x","order-y"]}}`},
			[]string{`{"data":{"type":"refunds"}}`, `{"data":{"type":"Order-created"}}`, `{"data":{}}`, `{}`, `{"data":"order-x"}`, `{"data":{"type":{"prefix":"order-"}}}`}},
		// What the micro store's trigger mapping has.
		{`{"eventName":["INSERT"]}`, []string{`{"eventName":"INSERT","dynamodb":{}}`}, []string{`{"eventName":"MODIFY"}`, `{"eventName":"REMOVE"}`, `{}`}},
		{`{"data":{"n":[1, true, null]}}`, []string{`{"data":{"n":1.0}}`, `{"data":{"n":true}}`, `{"data":{"n":null}}`}, []string{`{"data":{"n":"1"}}`, `{"data":{"n":2}}`, `{"data":{}}`}},
		{`{"data":{"a":{"b":["x"]},"c":["y"]}}`, []string{`{"data":{"a":{"b":"x"},"c":"y"}}`}, []string{`{"data":{"a":{"b":"x"}}}`, `{"data":{"a":{"b":"z"},"c":"y"}}`}},
		{`{"data":{"id":[{"exists":true}],"gone":[{"exists":false}]}}`, []string{`{"data":{"id":""}}`, `{"data":{"id":null}}`}, []string{`{"data":{}}`, `{"data":{"id":1,"gone":0}}`}},
		{`{"data":{"t":[{"anything-but":["a","b"]}]}}`, []string{`{"data":{"t":"c"}}`, `{"data":{"t":1}}`}, []string{`{"data":{"t":"a"}}`, `{"data":{}}`}},
		{`{"data":{"t":[{"suffix":"-done"},{"equals-ignore-case":"OK"}]}}`, []string{`{"data":{"t":"x-done"}}`, `{"data":{"t":"ok"}}`}, []string{`{"data":{"t":"done-x"}}`}},
	} {
		f, err := NewFilter([]string{c.pattern})
		if err != nil {
			t.Fatalf("%s: %v", c.pattern, err)
		}
		for _, doc := range c.match {
			if !f.MatchJSON([]byte(doc)) {
				t.Errorf("%s does not match %s", c.pattern, doc)
			}
		}
		for _, doc := range c.miss {
			if f.MatchJSON([]byte(doc)) {
				t.Errorf("%s matches %s", c.pattern, doc)
			}
		}
	}

	// Patterns are ORed; no pattern lets everything through, JSON or not.
	f, _ := NewFilter([]string{`{"data":{"t":["a"]}}`, `{"data":{"t":["b"]}}`})
	if !f.MatchJSON([]byte(`{"data":{"t":"b"}}`)) || f.MatchJSON([]byte(`{"data":{"t":"c"}}`)) || f.MatchJSON([]byte("not json")) {
		t.Error("two patterns are not ORed")
	}
	if f, _ := NewFilter(nil); !f.MatchJSON([]byte("not json")) {
		t.Error("an empty filter drops a record")
	}

	// An operator the filter cannot evaluate is refused, never guessed.
	for _, bad := range []string{`{"data":{"n":[{"numeric":[">",1]}]}}`, `{"data":{"ip":[{"cidr":"10.0.0.0/8"}]}}`, `{"data":"x"}`,
		`{"data":{"t":[]}}`, `[1]`, `{"data":{"t":[{"wildcard":"a*"}]}}`, `{"data":{"t":[{"anything-but":{"prefix":"a"}}]}}`} {
		if _, err := NewFilter([]string{bad}); err == nil {
			t.Errorf("%s: accepted", bad)
		} else if !strings.Contains(err.Error(), "filter pattern 0") {
			t.Errorf("%s: error %q does not name the pattern", bad, err)
		}
	}
}
