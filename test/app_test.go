package test

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/blueprint"
	"github.com/eventlake/eventlake/test/snapshot"
)

// cdkContext returns the context of cdk.json, so tests synthesize the app as `cdk synth` does.
func cdkContext(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.Context
}

var (
	appOnce sync.Once
	appDir  string
)

// synthBlueprint synthesizes the full blueprint once per test binary, with real bundling, and returns the assembly
// directory. When EVENTLAKE_ASSEMBLY names a directory, it returns that one instead: `make test` sets it to the cdk.out
// that `cdk synth` has just written, so the app is synthesized once per run, by the CDK CLI.
func synthBlueprint(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("EVENTLAKE_ASSEMBLY"); dir != "" {
		if files, _ := filepath.Glob(filepath.Join(dir, "*.template.json")); len(files) == 0 {
			t.Fatalf("EVENTLAKE_ASSEMBLY=%s holds no template: run make synth, or unset it to synthesize here", dir)
		}
		return dir
	}
	appOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eventlake-app-")
		if err != nil {
			t.Fatal(err)
		}
		ctx := cdkContext(t)
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir), Context: &ctx})
		blueprint.New(app)
		app.Synth(nil)
		appDir = dir
	})
	if appDir == "" {
		t.Fatal("the blueprint did not synthesize")
	}
	return appDir
}

func templates(t testing.TB, dir string) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	out := map[string]map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tmpl map[string]any
		if err := json.Unmarshal(raw, &tmpl); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".template.json")] = tmpl
	}
	return out
}

func TestBlueprintSnapshots(t *testing.T) {
	tmpls := templates(t, synthBlueprint(t))
	for _, want := range []string{"EventlakeCore", "EventlakeLake", "EventlakeSubscribers", "EventlakeStore"} { // the replay is in the subscribers stack
		if _, ok := tmpls[want]; !ok {
			t.Errorf("stack %s is missing from the app", want)
		}
	}
	for name, tmpl := range tmpls {
		snapshot.MatchTemplate(t, tmpl, filepath.Join("testdata", "snapshots", name+".template.json"))
	}
}

// TestBlueprintNag requires zero unsuppressed findings of the AwsSolutions and Serverless packs on every stack.
func TestBlueprintNag(t *testing.T) {
	dir := synthBlueprint(t)
	reports, _ := filepath.Glob(filepath.Join(dir, "*-NagReport.csv"))
	stacks := len(templates(t, dir))
	if len(reports) != 2*stacks {
		t.Fatalf("found %d nag reports for %d stacks, want one per pack per stack", len(reports), stacks)
	}
	for _, report := range reports {
		f, err := os.Open(report)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			switch row[2] {
			case "Compliant", "Not Applicable", "Suppressed":
			default:
				t.Errorf("%s: %s on %s is %s: %s", filepath.Base(report), row[0], row[1], row[2], row[5])
			}
			if row[2] == "Suppressed" && len(row[3]) < 40 {
				t.Errorf("%s: suppression of %s on %s has no specific reason: %q", filepath.Base(report), row[0], row[1], row[3])
			}
		}
	}
	// And no error annotation of any kind.
	metas, _ := filepath.Glob(filepath.Join(dir, "*.metadata.json"))
	for _, m := range metas {
		raw, _ := os.ReadFile(m)
		var md map[string][]struct {
			Type string
			Data any
		}
		json.Unmarshal(raw, &md)
		for path, entries := range md {
			for _, e := range entries {
				if e.Type == "aws:cdk:error" || e.Type == "aws:cdk:warning" {
					t.Errorf("%s %s: %v", e.Type, path, e.Data)
				}
			}
		}
	}
}

// TestBlueprintCfnLint requires zero cfn-lint errors and warnings on every template.
func TestBlueprintCfnLint(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(synthBlueprint(t), "*.template.json"))
	cfnLint(t, files...)
}

// cfnLint requires zero cfn-lint errors and warnings on the templates. It fails without cfn-lint under CI=true and
// skips otherwise.
func cfnLint(t *testing.T, templates ...string) {
	t.Helper()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cfn-lint is not installed")
		}
		t.Skip("cfn-lint is not installed")
	}
	out, err := exec.Command(lint, templates...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}

// TestOnlyXRayOnWildcardResources guards the Resource "*" suppressions: in every policy of the app, a statement on
// Resource "*" may only hold actions that have no resource-level permissions, and only where they are needed: X-Ray's
// two actions (active tracing) and dynamodb:ListStreams (reading a table's stream) anywhere; the event source mapping
// actions in the mapper's policy; log delivery and X-Ray sampling in a state machine's policy.
func TestOnlyXRayOnWildcardResources(t *testing.T) {
	anywhere := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true,
		// Granted with read access to a DynamoDB stream (a micro store's trigger).
		"dynamodb:ListStreams": true}
	byPolicy := map[string]map[string]bool{
		"EventlakeMapperRole": {"lambda:CreateEventSourceMapping": true, "lambda:ListEventSourceMappings": true},
		"StateMachineRole": {"logs:CreateLogDelivery": true, "logs:DeleteLogDelivery": true, "logs:DescribeLogGroups": true,
			"logs:DescribeResourcePolicies": true, "logs:GetLogDelivery": true, "logs:ListLogDeliveries": true,
			"logs:PutResourcePolicy": true, "logs:UpdateLogDelivery": true, "xray:GetSamplingRules": true, "xray:GetSamplingTargets": true},
	}
	for name, tmpl := range templates(t, synthBlueprint(t)) {
		resources := tmpl["Resources"].(map[string]any)
		// Roles that Step Functions assumes: their policies may hold the state machine's log delivery actions.
		stepFunctionsRoles := map[string]bool{}
		for id, r := range resources {
			if raw, _ := json.Marshal(r); r.(map[string]any)["Type"] == "AWS::IAM::Role" && strings.Contains(string(raw), `"states.amazonaws.com"`) {
				stepFunctionsRoles[id] = true
			}
		}
		for id, r := range resources {
			r := r.(map[string]any)
			if r["Type"] != "AWS::IAM::Policy" {
				continue
			}
			policyOfStepFunctions := false
			for _, role := range r["Properties"].(map[string]any)["Roles"].([]any) {
				if ref, ok := role.(map[string]any)["Ref"].(string); ok && stepFunctionsRoles[ref] {
					policyOfStepFunctions = true
				}
			}
			doc := r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
			for _, s := range doc["Statement"].([]any) {
				s := s.(map[string]any)
				if s["Resource"] != "*" {
					continue
				}
				actions, _ := s["Action"].([]any)
				if a, ok := s["Action"].(string); ok {
					actions = []any{a}
				}
				for _, a := range actions {
					allowed := anywhere[a.(string)]
					for marker, set := range byPolicy {
						if (strings.Contains(id, marker) || (marker == "StateMachineRole" && policyOfStepFunctions)) && set[a.(string)] {
							allowed = true
						}
					}
					if !allowed {
						t.Errorf("%s/%s: %v on Resource *", name, id, a)
					}
				}
			}
		}
	}
}
