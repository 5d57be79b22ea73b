package cfn

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const loadTemplate = `{
  "Resources": {
    "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
    "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}]}},
    "Fn": {
      "Type": "AWS::Lambda::Function",
      "DependsOn": "Policy",
      "Properties": {
        "Code": {"S3Bucket": {"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": "aaaa.zip"},
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "Handler": "bootstrap", "Runtime": "provided.al2023", "Architectures": ["arm64"],
        "Timeout": 30, "MemorySize": 256,
        "Environment": {"Variables": {"A": "1", "B": {"Ref": "Role"}}}
      }
    },
    "Defaults": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ZipFile": "x"}, "Role": "arn:aws:iam::123456789012:role/elsewhere"}}
  },
  "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}, "Export": {"Name": "Base:RoleArn"}}}
}`

func TestLoad(t *testing.T) {
	// The manifest lists Top first; it depends on Base by the manifest, and on Side by an import.
	dir := writeAssembly(t,
		testStack{name: "Top", deps: []string{"Base"}, template: `{"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Fn::ImportValue": "Side:Name"}}}}}`},
		testStack{name: "Side", template: `{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}, "Outputs": {"N": {"Value": {"Ref": "Q"}, "Export": {"Name": "Side:Name"}}}}`},
		testStack{name: "Base", template: loadTemplate, assets: []string{"aaaa"}},
	)
	a, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range a.Stacks {
		order = append(order, s.Name)
	}
	if want := []string{"Side", "Base", "Top"}; !reflect.DeepEqual(order, want) {
		t.Errorf("stack order %v, want %v", order, want)
	}
	if deps := a.Stack("Top").Dependencies; !reflect.DeepEqual(deps, []string{"Base", "Side"}) {
		t.Errorf("Top depends on %v, want [Base Side]", deps)
	}

	base := a.Stack("Base")
	if want := []string{"Role", "Policy", "Fn", "Defaults"}; !reflect.DeepEqual(base.Order, want) {
		t.Errorf("resource order %v, want template order %v", base.Order, want)
	}
	if fn := base.Resources["Fn"]; !reflect.DeepEqual(fn.DependsOn, []string{"Policy"}) || fn.Type != "AWS::Lambda::Function" || fn.Stack != "Base" {
		t.Errorf("resource Fn: %+v", fn)
	}
	if out := base.Outputs["RoleArn"]; out == nil || out.Export != "Base:RoleArn" {
		t.Errorf("output RoleArn: %+v", out)
	}

	if len(a.Functions) != 2 {
		t.Fatalf("%d functions, want 2", len(a.Functions))
	}
	fn := a.Function("Base", "Fn")
	want := &Function{
		Stack: "Base", LogicalID: "Fn", AssetDir: filepath.Join(a.Dir, "asset.aaaa"),
		Environment:  map[string]any{"A": "1", "B": map[string]any{"Ref": "Role"}},
		Role:         "Role",
		RoleProperty: map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}},
		Timeout:      30, MemorySize: 256, Handler: "bootstrap", Runtime: "provided.al2023", Architectures: []string{"arm64"},
	}
	if !reflect.DeepEqual(fn, want) {
		t.Errorf("function Fn:\n got %+v\nwant %+v", fn, want)
	}
	if _, err := os.Stat(fn.Bootstrap()); err != nil {
		t.Errorf("bootstrap: %v", err)
	}
	def := a.Function("Base", "Defaults")
	if def.AssetDir != "" || def.Bootstrap() != "" || def.Role != "" || def.Timeout != 3 || def.MemorySize != 128 ||
		!reflect.DeepEqual(def.Architectures, []string{"x86_64"}) || len(def.Environment) != 0 {
		t.Errorf("function Defaults: %+v", def)
	}
	if got := a.ResourcesOfType("AWS::SQS::Queue"); len(got) != 2 || got[0].Stack != "Side" || got[1].Stack != "Top" {
		t.Errorf("ResourcesOfType: %+v", got)
	}
	if a.Resource("Base", "Role") == nil || a.Resource("Base", "Nope") != nil || a.Resource("Nope", "Role") != nil {
		t.Error("Resource lookups")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, want string
		stacks     []testStack
	}{
		{"DependsOn an unknown resource", "DependsOn names Nope",
			[]testStack{{name: "S", template: `{"Resources": {"A": {"Type": "AWS::SQS::Queue", "DependsOn": ["Nope"]}}}`}}},
		{"resource without a type", "resource A has no Type",
			[]testStack{{name: "S", template: `{"Resources": {"A": {}}}`}}},
		{"stack cycle", "cycle",
			[]testStack{{name: "A", deps: []string{"B"}, template: `{"Resources": {}}`}, {name: "B", deps: []string{"A"}, template: `{"Resources": {}}`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeAssembly(t, tc.stacks...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("Load of an empty directory: %v", err)
	}
	dir := writeAssembly(t, testStack{name: "S", template: loadTemplate, assets: []string{"aaaa"}})
	if err := os.RemoveAll(filepath.Join(dir, "asset.aaaa")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "function Fn") {
		t.Errorf("Load without the function's asset directory: %v", err)
	}
}

func TestResourceOrder(t *testing.T) {
	dir := writeAssembly(t, testStack{name: "S", template: `{"Resources": {
		"Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Policy"], "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}}},
		"Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "X": {"Fn::Sub": "${Queue.Arn}"}}},
		"Queue": {"Type": "AWS::SQS::Queue"},
		"Role": {"Type": "AWS::IAM::Role"}
	}}`})
	a, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	order, err := resourceOrder(a.Stack("S"))
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for _, before := range [][2]string{{"Role", "Fn"}, {"Policy", "Fn"}, {"Role", "Policy"}, {"Queue", "Policy"}} {
		if pos[before[0]] > pos[before[1]] {
			t.Errorf("order %v: %s comes after %s", order, before[0], before[1])
		}
	}

	dir = writeAssembly(t, testStack{name: "S", template: `{"Resources": {
		"A": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Ref": "B"}}},
		"B": {"Type": "AWS::SQS::Queue", "DependsOn": "A"}
	}}`})
	if a, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := resourceOrder(a.Stack("S")); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("resourceOrder of a cycle: %v", err)
	}
}

func TestPhysicalName(t *testing.T) {
	name := physicalName("run1", "EventlakeSubscribers", "ProjectionsReplayFunction4DD474E0", 64, false)
	if len(name) > 64 || !strings.HasPrefix(name, "EventlakeSubscri") || !strings.Contains(name, "-ProjectionsReplay") {
		t.Errorf("function name %q", name)
	}
	if again := physicalName("run1", "EventlakeSubscribers", "ProjectionsReplayFunction4DD474E0", 64, false); again != name {
		t.Errorf("the same run names a resource %q, then %q", name, again)
	}
	if other := physicalName("run2", "EventlakeSubscribers", "ProjectionsReplayFunction4DD474E0", 64, false); other == name {
		t.Errorf("two runs give the same name %q", name)
	}
	short := physicalName("run1", "Core", "Stream", 128, false)
	if !strings.HasPrefix(short, "Core-Stream-") || len(short) != len("Core-Stream-")+12 || strings.ToUpper(short[12:]) != short[12:] {
		t.Errorf("short name %q", short)
	}
	bucket := physicalName("run1", "EventlakeLake", "DataLakeAccessLogsBucketWithAVeryLongLogicalId1DA51325", 63, true)
	if len(bucket) > 63 || bucket != strings.ToLower(bucket) || !strings.HasPrefix(bucket, "eventlakelake-datalake") {
		t.Errorf("bucket name %q", bucket)
	}
	if a, b := physicalName("r", "S1", "X", 64, false), physicalName("r", "S2", "X", 64, false); a[len(a)-12:] == b[len(b)-12:] {
		t.Errorf("the same logical id in two stacks gets the same suffix: %q, %q", a, b)
	}
}
