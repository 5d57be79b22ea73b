package cfn

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// producerTemplate exports a stream's ARN (under a name built with Fn::Sub) and a queue's URL.
const producerTemplate = `{
  "Parameters": {
    "Env": {"Type": "String", "Default": "prod"},
    "Required": {"Type": "String"},
    "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}
  },
  "Conditions": {
    "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
    "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
    "ProdInUsEast1": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}]},
    "DevOrTrue": {"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "a"]}]},
    "Loop": {"Fn::Not": [{"Condition": "Loop"}]}
  },
  "Mappings": {"Sizes": {"prod": {"Memory": 512, "Name": "large"}}},
  "Resources": {
    "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
    "Queue": {"Type": "AWS::SQS::Queue"},
    "DevQueue": {"Type": "AWS::SQS::Queue", "Condition": "IsDev"},
    "Later": {"Type": "AWS::SQS::Queue"},
    "Mapping": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x"}}
  },
  "Outputs": {
    "StreamArn": {"Value": {"Fn::GetAtt": ["Stream", "Arn"]}, "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:StreamArn"}}},
    "QueueUrl": {"Value": {"Ref": "Queue"}, "Export": {"Name": "Producer-QueueUrl"}},
    "LaterUrl": {"Value": {"Ref": "Later"}, "Export": {"Name": "Producer-LaterUrl"}},
    "NotExported": {"Value": {"Ref": "Queue"}}
  }
}`

// consumerTemplate imports the producer's exports.
const consumerTemplate = `{
  "Resources": {
    "Table": {"Type": "AWS::DynamoDB::Table"},
    "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Environment": {"Variables": {
      "STREAM": {"Fn::ImportValue": "Producer:StreamArn"},
      "TABLE": {"Ref": "Table"}
    }}}}
  },
  "Outputs": {
    "Own": {"Value": {"Ref": "Table"}, "Export": {"Name": "Consumer-Own"}}
  }
}`

func newTestResolver(t *testing.T) *Resolver {
	t.Helper()
	dir := writeAssembly(t,
		testStack{name: "Producer", template: producerTemplate},
		testStack{name: "Consumer", deps: []string{"Producer"}, template: consumerTemplate},
	)
	a, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(a, "us-east-1", DefaultAccountID)
	r.Record("Producer", "Stream", "Producer-Stream-ABC", map[string]string{"Arn": "arn:aws:kinesis:us-east-1:123456789012:stream/Producer-Stream-ABC"})
	r.Record("Producer", "Queue", "https://sqs.us-east-1.amazonaws.com/123456789012/Producer-Queue-DEF", map[string]string{
		"Arn": "arn:aws:sqs:us-east-1:123456789012:Producer-Queue-DEF", "QueueName": "Producer-Queue-DEF",
	})
	r.recordMissing("Producer", "DevQueue", "its condition IsDev is false")
	r.Record("Producer", "Mapping", "Producer-Mapping-GHI", nil)
	r.Record("Consumer", "Table", "Consumer-Table-XYZ", map[string]string{"Arn": "arn:aws:dynamodb:us-east-1:123456789012:table/Consumer-Table-XYZ"})
	return r
}

func TestResolveIntrinsics(t *testing.T) {
	r := newTestResolver(t)
	tests := []struct {
		name, stack, in, want string
	}{
		{"Ref resource", "Producer", `{"Ref": "Stream"}`, `"Producer-Stream-ABC"`},
		{"Ref parameter default", "Producer", `{"Ref": "Env"}`, `"prod"`},
		{"Ref AWS::AccountId", "Producer", `{"Ref": "AWS::AccountId"}`, `"123456789012"`},
		{"Ref AWS::Region", "Producer", `{"Ref": "AWS::Region"}`, `"us-east-1"`},
		{"Ref AWS::Partition", "Producer", `{"Ref": "AWS::Partition"}`, `"aws"`},
		{"Ref AWS::URLSuffix", "Producer", `{"Ref": "AWS::URLSuffix"}`, `"amazonaws.com"`},
		{"Ref AWS::StackName", "Consumer", `{"Ref": "AWS::StackName"}`, `"Consumer"`},
		{"Ref AWS::NoValue drops the property", "Producer", `{"A": "a", "B": {"Ref": "AWS::NoValue"}}`, `{"A": "a"}`},
		{"Ref AWS::NoValue drops the element", "Producer", `["a", {"Ref": "AWS::NoValue"}, "b"]`, `["a", "b"]`},
		{"Fn::GetAtt list", "Producer", `{"Fn::GetAtt": ["Queue", "Arn"]}`, `"arn:aws:sqs:us-east-1:123456789012:Producer-Queue-DEF"`},
		{"Fn::GetAtt string", "Producer", `{"Fn::GetAtt": "Queue.QueueName"}`, `"Producer-Queue-DEF"`},
		{"Fn::Join", "Producer", `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Stream"}, "/*"]]}`, `"arn:aws:s3:::Producer-Stream-ABC/*"`},
		{"Fn::Join with a spaced delimiter", "Producer", `{"Fn::Join": [" / ", ["a", "b"]]}`, `"a / b"`},
		{"Fn::Join of numbers", "Producer", `{"Fn::Join": ["-", ["a", 1, true]]}`, `"a-1-true"`},
		{"Fn::Sub string", "Producer", `{"Fn::Sub": "${AWS::Region}/${Queue}/${Stream.Arn}/${!Literal}"}`, `"us-east-1/https://sqs.us-east-1.amazonaws.com/123456789012/Producer-Queue-DEF/arn:aws:kinesis:us-east-1:123456789012:stream/Producer-Stream-ABC/${Literal}"`},
		{"Fn::Sub variables", "Producer", `{"Fn::Sub": ["[{\"bucket\":\"${b}\",\"q\":\"${Queue.QueueName}\",\"s\":\"${Stream}\"}]", {"b": {"Ref": "Stream"}, "Stream": "overridden"}]}`, `"[{\"bucket\":\"Producer-Stream-ABC\",\"q\":\"Producer-Queue-DEF\",\"s\":\"overridden\"}]"`},
		{"Fn::Split", "Producer", `{"Fn::Split": [":", {"Fn::GetAtt": ["Queue", "Arn"]}]}`, `["arn", "aws", "sqs", "us-east-1", "123456789012", "Producer-Queue-DEF"]`},
		{"Fn::Select of Fn::Split", "Producer", `{"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetAtt": ["Queue", "Arn"]}]}]}`, `"Producer-Queue-DEF"`},
		{"Fn::Select string index", "Producer", `{"Fn::Select": ["1", ["a", "b"]]}`, `"b"`},
		{"Fn::ImportValue", "Consumer", `{"Fn::ImportValue": "Producer:StreamArn"}`, `"arn:aws:kinesis:us-east-1:123456789012:stream/Producer-Stream-ABC"`},
		{"Fn::ImportValue of a Fn::Sub name", "Consumer", `{"Fn::ImportValue": {"Fn::Sub": ["${p}:StreamArn", {"p": "Producer"}]}}`, `"arn:aws:kinesis:us-east-1:123456789012:stream/Producer-Stream-ABC"`},
		{"Fn::ImportValue of an unexported name", "Consumer", `{"Fn::ImportValue": {"Fn::Sub": "Producer-${Table}"}}`, `"ERR"`},
		{"Fn::ImportValue of a literal export", "Consumer", `{"Fn::ImportValue": {"Fn::Join": ["-", ["Producer", "QueueUrl"]]}}`, `"https://sqs.us-east-1.amazonaws.com/123456789012/Producer-Queue-DEF"`},
		{"Fn::If true", "Producer", `{"Fn::If": ["IsProd", "big", "small"]}`, `"big"`},
		{"Fn::If false", "Producer", `{"Fn::If": ["IsDev", "big", "small"]}`, `"small"`},
		{"Fn::If And", "Producer", `{"Fn::If": ["ProdInUsEast1", 1, 2]}`, `1`},
		{"Fn::If Or", "Producer", `{"Fn::If": ["DevOrTrue", 1, 2]}`, `1`},
		{"Fn::If NoValue", "Producer", `{"A": {"Fn::If": ["IsDev", "x", {"Ref": "AWS::NoValue"}]}}`, `{}`},
		{"Fn::FindInMap", "Producer", `{"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]}`, `512`},
		{"Fn::Base64", "Producer", `{"Fn::Base64": {"Fn::Sub": "${AWS::Region}"}}`, `"dXMtZWFzdC0x"`},
		{"Fn::GetAZs", "Producer", `{"Fn::Select": [0, {"Fn::GetAZs": ""}]}`, `"us-east-1a"`},
		{"nested everything", "Consumer", `{"Env": {"X": {"Fn::Join": [",", [{"Fn::ImportValue": "Producer-QueueUrl"}, {"Fn::Sub": "${Table.Arn}"}]]}}}`, `{"Env": {"X": "https://sqs.us-east-1.amazonaws.com/123456789012/Producer-Queue-DEF,arn:aws:dynamodb:us-east-1:123456789012:table/Consumer-Table-XYZ"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve(tc.stack, "Fn", mustJSON(t, tc.in))
			if tc.want == `"ERR"` {
				if err == nil {
					t.Fatalf("resolved %s to %s, want an error", tc.in, compact(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := mustJSON(t, tc.want); !reflect.DeepEqual(got, want) {
				t.Errorf("%s resolved to %s, want %s", tc.in, compact(got), tc.want)
			}
		})
	}
}

func TestResolveParameters(t *testing.T) {
	r := newTestResolver(t)
	if got, _ := r.Resolve("Producer", "", mustJSON(t, `{"Fn::If": ["IsProd", "p", "d"]}`)); got != "p" {
		t.Fatalf("IsProd with the default Env: got %v", got)
	}
	r.SetParameter("Producer", "Env", "dev")
	if got, err := r.ResolveString("Producer", "", mustJSON(t, `{"Ref": "Env"}`)); err != nil || got != "dev" {
		t.Errorf("Ref Env after SetParameter: %q, %v", got, err)
	}
	if got, _ := r.Resolve("Producer", "", mustJSON(t, `{"Fn::If": ["IsProd", "p", "d"]}`)); got != "d" {
		t.Errorf("conditions were not re-evaluated after SetParameter: got %v", got)
	}
	r.SetParameter("Producer", "Required", "given")
	if got, err := r.ResolveString("Producer", "", mustJSON(t, `{"Ref": "Required"}`)); err != nil || got != "given" {
		t.Errorf("Ref Required: %q, %v", got, err)
	}
	if on, err := r.Condition("Producer", "IsDev"); err != nil || !on {
		t.Errorf("Condition IsDev with Env=dev: %v, %v", on, err)
	}
}

func TestResolveErrors(t *testing.T) {
	r := newTestResolver(t)
	tests := []struct {
		name, stack, in string
		want            RefError // Stack, Resource, Intrinsic, Target, Attribute must match
		reason          string   // a part of the reason
	}{
		{"Ref unknown resource", "Consumer", `{"Ref": "Nope"}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Ref", Target: "Nope"}, "no such resource"},
		{"GetAtt unknown resource", "Consumer", `{"Fn::GetAtt": ["Nope", "Arn"]}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Fn::GetAtt", Target: "Nope", Attribute: "Arn"}, "no such resource"},
		{"GetAtt unknown attribute", "Producer", `{"Fn::GetAtt": ["Stream", "StreamArn"]}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::GetAtt", Target: "Stream", Attribute: "StreamArn"}, "AWS::Kinesis::Stream has no attribute StreamArn"},
		{"GetAtt of a custom resource", "Producer", `{"Fn::GetAtt": ["Mapping", "Uuid"]}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::GetAtt", Target: "Mapping", Attribute: "Uuid"}, "provider function"},
		{"Sub unknown attribute", "Producer", `{"Fn::Sub": "x-${Queue.Nope}"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::Sub", Target: "Queue", Attribute: "Nope"}, "AWS::SQS::Queue has no attribute Nope"},
		{"Sub unknown name", "Producer", `{"Fn::Sub": "x-${Nope}"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::Sub", Target: "Nope"}, "no such resource or parameter"},
		{"Ref not created yet", "Producer", `{"Ref": "Later"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Ref", Target: "Later"}, "AWS::SQS::Queue has not been created"},
		{"Ref not created: condition false", "Producer", `{"Fn::GetAtt": ["DevQueue", "Arn"]}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::GetAtt", Target: "DevQueue", Attribute: "Arn"}, "condition IsDev is false"},
		{"ImportValue unknown export", "Consumer", `{"Fn::ImportValue": "Producer:Nope"}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Fn::ImportValue", Target: "Producer:Nope"}, "no stack of the assembly exports"},
		{"ImportValue not exported", "Consumer", `{"Fn::ImportValue": "NotExported"}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Fn::ImportValue", Target: "NotExported"}, "no stack of the assembly exports"},
		{"ImportValue of a resource not created", "Consumer", `{"Fn::ImportValue": "Producer-LaterUrl"}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Fn::ImportValue", Target: "Producer-LaterUrl"}, "Later"},
		{"ImportValue own export", "Consumer", `{"Fn::ImportValue": "Consumer-Own"}`,
			RefError{Stack: "Consumer", Resource: "Fn", Intrinsic: "Fn::ImportValue", Target: "Consumer-Own"}, "its own export"},
		{"unknown condition", "Producer", `{"Fn::If": ["Nope", 1, 2]}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Condition", Target: "Nope"}, "no such condition"},
		{"condition cycle", "Producer", `{"Fn::If": ["Loop", 1, 2]}`,
			RefError{Stack: "Producer", Resource: "Conditions.Loop", Intrinsic: "Condition", Target: "Loop"}, "refers to itself"},
		{"parameter without a value", "Producer", `{"Ref": "Required"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Ref", Target: "Required"}, "no default"},
		{"SSM parameter", "Producer", `{"Ref": "BootstrapVersion"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Ref", Target: "BootstrapVersion"}, "SSM"},
		{"unknown pseudo parameter", "Producer", `{"Ref": "AWS::Nope"}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Ref", Target: "AWS::Nope"}, "pseudo parameter"},
		{"FindInMap unknown key", "Producer", `{"Fn::FindInMap": ["Sizes", "dev", "Memory"]}`,
			RefError{Stack: "Producer", Resource: "Fn", Intrinsic: "Fn::FindInMap", Target: "Sizes", Attribute: "dev"}, "no such key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve(tc.stack, "Fn", mustJSON(t, `{"Properties": {"Environment": {"X": `+tc.in+`}}}`))
			if err == nil {
				t.Fatalf("resolved to %s, want an error", compact(got))
			}
			var re *RefError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RefError", err)
			}
			g := *re
			g.Path, g.Reason = "", ""
			if g != tc.want {
				t.Errorf("error %+v, want %+v", g, tc.want)
			}
			if !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("reason %q does not say %q", re.Reason, tc.reason)
			}
			msg := err.Error()
			for _, part := range []string{"stack " + tc.want.Stack, tc.want.Target, tc.want.Attribute} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q does not name %q", msg, part)
				}
			}
			if tc.want.Resource == "Fn" && re.Path != "Properties.Environment.X" {
				t.Errorf("path %q, want Properties.Environment.X", re.Path)
			}
		})
	}
}

func TestResolveMalformed(t *testing.T) {
	r := newTestResolver(t)
	for _, in := range []string{
		`{"Fn::Cidr": ["10.0.0.0/16", 2, 8]}`,
		`{"Fn::Join": ["-"]}`,
		`{"Fn::Join": ["-", "notalist"]}`,
		`{"Fn::Join": ["-", [{"A": 1}]]}`,
		`{"Fn::Select": [3, ["a"]]}`,
		`{"Fn::Select": ["x", ["a"]]}`,
		`{"Fn::GetAtt": "NoDot"}`,
		`{"Fn::Equals": ["a", "a"]}`,
		`{"Fn::Sub": 5}`,
		`{"Ref": ["a"]}`,
	} {
		if got, err := r.Resolve("Producer", "Fn", mustJSON(t, in)); err == nil {
			t.Errorf("%s resolved to %s, want an error", in, compact(got))
		} else if !strings.Contains(err.Error(), "stack Producer, resource Fn") {
			t.Errorf("%s: error %q does not name the stack and resource", in, err)
		}
	}
}

func TestParseSub(t *testing.T) {
	got := parseSub("a${B}c${!D}${E.F}${unterminated")
	want := []subPart{{text: "a"}, {text: "B", variable: true}, {text: "c${D}"}, {text: "E.F", variable: true}, {text: "${unterminated"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSub: %+v, want %+v", got, want)
	}
}

func TestReferences(t *testing.T) {
	r := newTestResolver(t)
	s := r.assembly.Stack("Producer")
	v := mustJSON(t, `{"A": {"Ref": "Stream"}, "B": {"Fn::GetAtt": "Queue.Arn"}, "C": {"Fn::Sub": ["${Later}${x}${AWS::Region}", {"x": {"Ref": "Env"}}]}, "D": {"Ref": "AWS::NoValue"}, "E": {"Fn::Sub": "${DevQueue.Arn}"}}`)
	got := references(s, v)
	want := map[string]bool{"Stream": true, "Queue": true, "Later": true, "DevQueue": true}
	if len(got) != len(want) {
		t.Errorf("references: %v, want %v", got, want)
	}
	for _, id := range got {
		if !want[id] {
			t.Errorf("references: %v, want %v", got, want)
		}
	}
}
