package golambda_test

import (
	"debug/elf"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
)

// synthFunction synthesizes a stack holding one golambda function and returns its template and the assembly dir.
func synthFunction(t *testing.T, skip bool) (map[string]any, string) {
	t.Helper()
	props := &awscdk.AppProps{Outdir: jsii.String(t.TempDir())}
	if skip {
		props.Context = golambda.SkipBundling()
	}
	app := awscdk.NewApp(props)
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	golambda.NewFunction(stack, jsii.String("Transform"), &golambda.FunctionProps{Package: golambda.Handler("laketransform")})
	asm := app.Synth(nil)
	var tmpl map[string]any
	raw, err := os.ReadFile(filepath.Join(*asm.Directory(), "Stack.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl, *asm.Directory()
}

func codeKey(t *testing.T, tmpl map[string]any) string {
	t.Helper()
	for _, r := range tmpl["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == "AWS::Lambda::Function" {
			return r["Properties"].(map[string]any)["Code"].(map[string]any)["S3Key"].(string)
		}
	}
	t.Fatal("no function in template")
	return ""
}

func TestBuildsAnArm64BootstrapWithTheSameHashAsSkippedBundling(t *testing.T) {
	built, dir := synthFunction(t, false)
	skipped, _ := synthFunction(t, true)

	key := codeKey(t, built)
	if key != codeKey(t, skipped) {
		t.Errorf("asset key %s with bundling, %s without: snapshots would churn", key, codeKey(t, skipped))
	}
	hash := strings.TrimSuffix(key, ".zip")
	f, err := elf.Open(filepath.Join(dir, "asset."+hash, "bootstrap"))
	if err != nil {
		t.Fatalf("no bootstrap in the asset: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Errorf("bootstrap is built for %v, want arm64", f.Machine)
	}
	if syms, _ := f.Symbols(); len(syms) > 0 {
		t.Errorf("bootstrap has %d symbols; -s -w should strip them", len(syms))
	}
}

func TestFunctionDefaults(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	golambda.NewFunction(stack, jsii.String("Transform"), &golambda.FunctionProps{Package: golambda.Handler("laketransform")})
	tmpl := assertions.Template_FromStack(stack, nil)

	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
		"MemorySize": 256, "Timeout": 30, "TracingConfig": map[string]any{"Mode": "Active"},
		"LoggingConfig": map[string]any{"LogFormat": "JSON", "LogGroup": assertions.Match_AnyValue()},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 90})
	// No managed policy: the role may write only to its own log group.
	tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{"ManagedPolicyArns": assertions.Match_Absent()})
}

func TestNonMainPackageIsAClearSynthError(t *testing.T) {
	defer func() {
		r := recover()
		msg, _ := r.(string)
		if !strings.Contains(msg, "github.com/eventlake/eventlake/lake") || !strings.Contains(msg, "must be package main") {
			t.Errorf("panic %v does not name the package and the problem", r)
		}
	}()
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	golambda.NewFunction(stack, jsii.String("Fn"), &golambda.FunctionProps{Package: jsii.String("github.com/eventlake/eventlake/lake")})
}
