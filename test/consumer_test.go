package test

import (
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const consumerMain = `package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/datalake"
	"github.com/eventlake/eventlake/constructs/eventstore"
)

// A service team's own stack: it archives a stream owned by the platform's core stack, and keeps its events in an
// event store. No cdk.json: the app sets no feature flag.
func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("TeamStack"), nil)
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("Events"), jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	datalake.NewDataLake(stack, jsii.String("Lake"), &datalake.DataLakeProps{Stream: stream, Prefix: jsii.String("team/")})
	eventstore.NewEventStore(stack, jsii.String("Store"), &eventstore.EventStoreProps{Stream: stream})
	app.Synth(nil)
}
`

// TestConsumerModuleBuildsTheHandlers imports eventlake from another module, as a service team does, synthesizes a
// stack with a data lake and an event store, and checks that the asset holds a real arm64 bootstrap with the same
// hash as in this module's own snapshot, and that the template passes cfn-lint although the consumer's app sets no
// feature flag (no cdk.json).
func TestConsumerModuleBuildsTheHandlers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a separate module")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/team\n\ngo 1.26\n\nrequire github.com/eventlake/eventlake v0.0.0\n\nreplace github.com/eventlake/eventlake => " + checkout + "\n"
	for name, content := range map[string]string{"go.mod": gomod, "main.go": consumerMain} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run([]string{"GOFLAGS=-mod=mod"}, "mod", "tidy")
	outdir := filepath.Join(dir, "cdk.out")
	// -trimpath hides the library's source paths, as in a build from the module cache: golambda must find the
	// eventlake module through the go command.
	run([]string{"CDK_OUTDIR=" + outdir}, "run", "-trimpath", ".")

	template := filepath.Join(outdir, "TeamStack.template.json")
	raw, err := os.ReadFile(template)
	if err != nil {
		t.Fatal(err)
	}
	cfnLint(t, template)
	key := transformCodeKey(t, raw)
	bootstrap := filepath.Join(outdir, "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")
	f, err := elf.Open(bootstrap)
	if err != nil {
		t.Fatalf("no bootstrap in the consumer's asset: %v", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Errorf("bootstrap is %v %v, want arm64", f.Class, f.Machine)
	}
	own, err := os.ReadFile(filepath.Join("testdata", "snapshots", "EventlakeLake.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ownKey := transformCodeKey(t, own); ownKey != key {
		t.Errorf("consumer asset %s, eventlake's own %s: the same sources must hash the same in any module", key, ownKey)
	}
}

// transformCodeKey returns the S3 key of the lake transformation's code in a template.
func transformCodeKey(t *testing.T, raw []byte) string {
	t.Helper()
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				Code struct{ S3Key string }
			}
		}
	}
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	for id, r := range tmpl.Resources {
		if r.Type == "AWS::Lambda::Function" && strings.Contains(id, "Transform") {
			return r.Properties.Code.S3Key
		}
	}
	t.Fatal("no transformation function in the template")
	return ""
}
