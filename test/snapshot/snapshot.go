// Package snapshot compares a CDK stack's CloudFormation template with a golden file, for snapshot tests of your own
// stacks. Run the tests with -update (go test ./... -args -update, or go test -run X . -update) to write the golden
// files anew, review the diff, and commit it.
//
//	func TestOrdersStack(t *testing.T) {
//		app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
//		stack := NewOrdersStack(app, "Orders")
//		snapshot.Match(t, stack, "testdata/Orders.template.json")
//	}
//
// Templates are written with sorted keys and two-space indentation, and what differs from machine to machine or from
// one CDK CLI run to another is left out (the CDKMetadata resource and its condition, aws:cdk:path and aws:asset:*
// metadata), so the files are stable across machines. eventlake's Lambda asset hashes come from their sources, so
// they are stable too.
package snapshot

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

var update = flag.Bool("update", false, "write snapshot golden files instead of comparing with them")

// Updating reports whether golden files are being rewritten (the -update flag, or UPDATE_SNAPSHOTS=1).
func Updating() bool {
	return *update || os.Getenv("UPDATE_SNAPSHOTS") == "1"
}

// Template returns the stack's synthesized template, normalized as the golden files hold it.
func Template(t testing.TB, stack awscdk.Stack) map[string]any {
	t.Helper()
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return Normalize(tmpl)
}

// Match compares the stack's template with the golden file, or writes it under -update.
func Match(t testing.TB, stack awscdk.Stack, golden string) {
	t.Helper()
	MatchTemplate(t, Template(t, stack), golden)
}

// MatchTemplate compares a template (already parsed from JSON) with the golden file, or writes it under -update.
func MatchTemplate(t testing.TB, tmpl map[string]any, golden string) {
	t.Helper()
	got, err := json.MarshalIndent(Normalize(tmpl), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("snapshot %s: %v (run the test with -update to create it)", golden, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("template differs from snapshot %s (run with -update to accept it):\n%s", golden, diff(string(want), string(got)))
	}
}

// Normalize removes what varies between machines and CLI runs from a template, in place, and returns it.
func Normalize(tmpl map[string]any) map[string]any {
	if res, ok := tmpl["Resources"].(map[string]any); ok {
		for id, r := range res {
			r, ok := r.(map[string]any)
			if !ok {
				continue
			}
			if r["Type"] == "AWS::CDK::Metadata" {
				delete(res, id)
				continue
			}
			if md, ok := r["Metadata"].(map[string]any); ok {
				for k := range md {
					if k == "aws:cdk:path" || strings.HasPrefix(k, "aws:asset:") {
						delete(md, k)
					}
				}
				if len(md) == 0 {
					delete(r, "Metadata")
				}
			}
		}
	}
	if conds, ok := tmpl["Conditions"].(map[string]any); ok {
		delete(conds, "CDKMetadataAvailable")
		if len(conds) == 0 {
			delete(tmpl, "Conditions")
		}
	}
	return tmpl
}

// diff shows the first lines where two texts differ, with a little context.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	from := max(0, i-3)
	for j := from; j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+12); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+12); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	fmt.Fprintf(&b, "(first difference at line %d; snapshot has %d lines, template %d)", i+1, len(w), len(g))
	return b.String()
}
