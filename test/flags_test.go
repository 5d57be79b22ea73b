package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/blueprint"
	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/test/snapshot"
)

// TestTemplatesDoNotDependOnFeatureFlags synthesizes the blueprint twice, with every feature flag of cdk.json (the
// CDK's recommended flags) and with none but @aws-cdk/aws-iam:minimizePolicies, and requires the same templates. A
// service team's app may set any flags, or none, and must get what eventlake's tests check. minimizePolicies only
// merges and orders policy statements, so it is kept in both to compare like with like.
func TestTemplatesDoNotDependOnFeatureFlags(t *testing.T) {
	const minimize = "@aws-cdk/aws-iam:minimizePolicies"
	all := cdkContext(t)
	if len(all) < 50 {
		t.Fatalf("cdk.json sets %d feature flags; it should set the CDK's recommended ones", len(all))
	}
	with := synthTemplates(t, all)
	without := synthTemplates(t, map[string]any{minimize: all[minimize]})
	if len(with) == 0 || len(with) != len(without) {
		t.Fatalf("%d stacks with the flags, %d without", len(with), len(without))
	}
	for stack, a := range with {
		b := without[stack]
		ra, _ := a["Resources"].(map[string]any)
		rb, _ := b["Resources"].(map[string]any)
		var differ []string
		for id := range ra {
			if !reflect.DeepEqual(ra[id], rb[id]) {
				differ = append(differ, id)
			}
		}
		for id := range rb {
			if _, ok := ra[id]; !ok {
				differ = append(differ, id+" (only without the flags)")
			}
		}
		sort.Strings(differ)
		for _, id := range differ {
			x, _ := json.Marshal(ra[id])
			y, _ := json.Marshal(rb[id])
			t.Errorf("%s: %s depends on the feature flags:\nwith:    %s\nwithout: %s", stack, id, x, y)
		}
		for _, k := range []string{"Outputs", "Conditions", "Parameters", "Mappings", "Rules"} {
			if !reflect.DeepEqual(a[k], b[k]) {
				t.Errorf("%s: %s depend on the feature flags", stack, k)
			}
		}
	}
}

// synthTemplates synthesizes the blueprint without building its handlers, with the given context, and returns its
// normalized templates by stack.
func synthTemplates(t *testing.T, context map[string]any) map[string]map[string]any {
	t.Helper()
	ctx := map[string]any{}
	for k, v := range context {
		ctx[k] = v
	}
	for k, v := range *golambda.SkipBundling() {
		ctx[k] = v
	}
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
	blueprint.New(app)
	app.Synth(nil)
	out := map[string]map[string]any{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl map[string]any
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = snapshot.Normalize(tmpl)
	}
	return out
}
