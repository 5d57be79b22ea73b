package rehearsal

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"*", "arn:aws:s3:::b/k", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k/deeper", false, true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false, false},
		{"arn:aws:s3:::b/payloads/*", "arn:aws:s3:::b/other/k", false, false},
		{"dynamodb:*Item", "dynamodb:PutItem", false, true},
		{"dynamodb:*Item", "dynamodb:PutItems", false, false},
		{"s3:Get*", "s3:GetObject", false, true},
		{"s3:get*", "s3:GetObject", true, true},
		{"s3:get*", "s3:GetObject", false, false},
		{"arn:aws:lambda:*:*:function:f:?", "arn:aws:lambda:r:a:function:f:1", false, true},
		{"arn:aws:lambda:*:*:function:f:?", "arn:aws:lambda:r:a:function:f:10", false, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
	} {
		if got := glob(c.pattern, c.s, c.fold); got != c.want {
			t.Errorf("glob(%q, %q, %v) = %v", c.pattern, c.s, c.fold, got)
		}
	}
}

func mustPolicy(t *testing.T, doc string) *policy {
	t.Helper()
	p, err := parsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:123456789012:table/events"
	grants := mustPolicy(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:UpdateItem"],"Resource":"`+table+`"},
		{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"`+table+`","Condition":{"ForAnyValue:StringEquals":{"dynamodb:EnclosingOperation":["TransactWriteItems"]}}},
		{"Effect":"Allow","Action":"dynamodb:Query","Resource":["`+table+`","`+table+`/index/*"]},
		{"Effect":"Allow","Action":"xray:PutTraceSegments","Resource":"*"},
		{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:sns:*:*:secret","Condition":{"StringLike":{"aws:RequestedRegion":"eu-*"}}}
	]}`)
	deny := mustPolicy(t, `{"Statement":{"Effect":"Deny","Action":"dynamodb:UpdateItem","Resource":"*","Condition":{"StringEqualsIfExists":{"dynamodb:EnclosingOperation":"TransactWriteItems"}}}}`)
	tx := map[string][]string{"dynamodb:enclosingoperation": {"TransactWriteItems"}}
	eu := map[string][]string{"aws:requestedregion": {"eu-west-1"}}
	for _, c := range []struct {
		name string
		req  request
		want decision
	}{
		{"granted action on its table", request{Action: "dynamodb:GetItem", Resource: table}, allowed},
		{"granted action on another table", request{Action: "dynamodb:GetItem", Resource: table + "2"}, implicitDeny},
		{"action not granted", request{Action: "dynamodb:DeleteItem", Resource: table}, implicitDeny},
		{"action names fold case", request{Action: "DynamoDB:getitem", Resource: table}, allowed},
		{"PutItem outside a transaction", request{Action: "dynamodb:PutItem", Resource: table}, implicitDeny},
		{"PutItem inside a transaction", request{Action: "dynamodb:PutItem", Resource: table, Context: tx}, allowed},
		{"query on an index", request{Action: "dynamodb:Query", Resource: table + "/index/byTime"}, allowed},
		{"wildcard resource", request{Action: "xray:PutTraceSegments", Resource: "*"}, allowed},
		{"explicit deny wins (IfExists, key absent)", request{Action: "dynamodb:UpdateItem", Resource: table}, explicitDeny},
		{"explicit deny wins (key present)", request{Action: "dynamodb:UpdateItem", Resource: table, Context: tx}, explicitDeny},
		{"NotAction and NotResource, condition holds", request{Action: "sns:Publish", Resource: "arn:aws:sns:eu-west-1:1:topic", Context: eu}, allowed},
		{"NotAction excludes", request{Action: "iam:PassRole", Resource: "arn:aws:iam::1:role/r", Context: eu}, implicitDeny},
		{"NotResource excludes", request{Action: "sns:Publish", Resource: "arn:aws:sns:eu-west-1:1:secret", Context: eu}, implicitDeny},
		{"condition key absent", request{Action: "sns:Publish", Resource: "arn:aws:sns:eu-west-1:1:topic"}, implicitDeny},
	} {
		if got := evaluate([]*policy{grants, deny}, c.req, nil); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}

	var notes []string
	odd := mustPolicy(t, `{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`)
	if got := evaluate([]*policy{odd}, request{Action: "sqs:SendMessage", Resource: "*"}, func(s string) { notes = append(notes, s) }); got != implicitDeny || len(notes) != 1 || !strings.Contains(notes[0], "DateGreaterThan") {
		t.Errorf("an operator the rehearsal does not evaluate: %v, notes %q", got, notes)
	}
}

func TestConditionOperators(t *testing.T) {
	for _, c := range []struct {
		op         string
		have, want []string
		ok         bool
	}{
		{"StringEquals", []string{"a"}, []string{"a", "b"}, true},
		{"StringEquals", []string{"c"}, []string{"a", "b"}, false},
		{"StringEquals", nil, []string{"a"}, false},
		{"StringNotEquals", nil, []string{"a"}, true},
		{"StringNotEquals", []string{"a"}, []string{"a"}, false},
		{"StringEqualsIgnoreCase", []string{"A"}, []string{"a"}, true},
		{"StringLike", []string{"order-created"}, []string{"order-*"}, true},
		{"StringNotLike", []string{"order-created"}, []string{"order-*"}, false},
		{"ArnLike", []string{"arn:aws:sqs:r:1:q"}, []string{"arn:aws:sqs:*:*:q"}, true},
		{"Bool", []string{"true"}, []string{"True"}, true},
		{"Null", nil, []string{"true"}, true},
		{"Null", []string{"x"}, []string{"true"}, false},
		{"StringEqualsIfExists", nil, []string{"a"}, true},
		{"ForAnyValue:StringEquals", []string{"x", "a"}, []string{"a"}, true},
		{"ForAllValues:StringEquals", []string{"x", "a"}, []string{"a"}, false},
		{"ForAllValues:StringEquals", nil, []string{"a"}, true},
	} {
		if ok, known := conditionHolds(c.op, c.have, c.want); !known || ok != c.ok {
			t.Errorf("%s %v against %v: %v (known %v), want %v", c.op, c.have, c.want, ok, known, c.ok)
		}
	}
	if _, known := conditionHolds("NumericLessThan", []string{"1"}, []string{"2"}); known {
		t.Error("NumericLessThan is not evaluated, and must say so")
	}
}

func TestWiden(t *testing.T) {
	const table = "arn:aws:dynamodb:us-east-1:123456789012:table/counters"
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:PutObject","dynamodb:UpdateItem","sqs:SendMessage"],"Resource":["arn:aws:s3:::b/*","` + table + `","arn:aws:sqs:us-east-1:123456789012:q"]},
		{"Effect":"Allow","Action":"dynamodb:PutItem","Resource":"` + table + `","Condition":{"ForAnyValue:StringEquals":{"dynamodb:EnclosingOperation":["TransactWriteItems"]}}},
		{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"` + table + `"},
		{"Effect":"Deny","Action":["s3:DeleteObject","dynamodb:DeleteTable"],"Resource":"*"},
		{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}
	]}`
	w, err := widen([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Statement []map[string]any }
	if err := json.Unmarshal(w, &got); err != nil {
		t.Fatal(err)
	}
	want := []string{
		// moto matches S3 and SQS resources: their actions keep the statement's resources (all of them: moto matches
		// each request against the list).
		`{"Action":["s3:PutObject","sqs:SendMessage"],"Effect":"Allow","Resource":["arn:aws:s3:::b/*","` + table + `","arn:aws:sqs:us-east-1:123456789012:q"]}`,
		`{"Action":["dynamodb:UpdateItem"],"Effect":"Allow","Resource":"*"}`,
		// Conditions of the widened services go: the rehearsal's gate applies them.
		`{"Action":["dynamodb:PutItem"],"Effect":"Allow","Resource":"*"}`,
		`{"Action":["dynamodb:GetItem"],"Effect":"Allow","Resource":"*"}`,
		// A Deny keeps its S3 part; its DynamoDB part is the gate's.
		`{"Action":["s3:DeleteObject"],"Effect":"Deny","Resource":"*"}`,
		`{"Effect":"Allow","NotAction":"iam:*","Resource":"arn:aws:kinesis:us-east-1:123456789012:stream/s"}`,
		`{"Effect":"Allow","NotAction":["iam:*","s3:*","sqs:*","sts:*"],"Resource":"*"}`,
		// moto authorizes DynamoDB transactions as actions of their own.
		`{"Action":["dynamodb:TransactWriteItems","dynamodb:TransactGetItems"],"Effect":"Allow","Resource":"*"}`,
	}
	if len(got.Statement) != len(want) {
		t.Fatalf("widened to %s", w)
	}
	for i, s := range got.Statement {
		b, _ := json.Marshal(s)
		if string(b) != want[i] {
			t.Errorf("statement %d:\n got %s\nwant %s", i, b, want[i])
		}
	}

	if w, err := widen([]byte(`{"Statement":[{"Effect":"Deny","Action":"dynamodb:*","Resource":"*"}]}`)); err != nil || !strings.Contains(string(w), "rehearsal:Nothing") {
		t.Errorf("a policy left with no statement: %s %v", w, err)
	}
}

func TestResourceProblems(t *testing.T) {
	known := []string{
		"arn:aws:dynamodb:us-east-1:123456789012:table/events",
		"arn:aws:s3:::lake",
		"arn:aws:lambda:us-east-1:123456789012:function:projections",
		"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*",
	}
	wild := documentedWildcards("us-east-1", "123456789012")
	p := mustPolicy(t, `{"Statement":[
		{"Effect":"Allow","Action":"dynamodb:Query","Resource":["arn:aws:dynamodb:us-east-1:123456789012:table/events","arn:aws:dynamodb:us-east-1:123456789012:table/events/index/*"]},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::lake/events/*","arn:aws:s3:::lak*"]},
		{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":["arn:aws:lambda:us-east-1:123456789012:function:projections:*"]},
		{"Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x:*"},
		{"Effect":"Allow","Action":["xray:PutTraceSegments","lambda:ListEventSourceMappings"],"Resource":"*"},
		{"Effect":"Allow","Action":"lambda:GetEventSourceMapping","Resource":"arn:aws:lambda:us-east-1:123456789012:event-source-mapping:*"},
		{"Effect":"Allow","Action":"events:PutEvents","Resource":"arn:aws:events:us-east-1:123456789012:event-bus/default"}
	]}`)
	if probs := resourceProblems(p, known, wild); len(probs) != 0 {
		t.Errorf("problems in a policy of known resources: %q", probs)
	}
	bad := mustPolicy(t, `{"Statement":[
		{"Effect":"Allow","Action":["dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/event"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::lake-old/*"},
		{"Effect":"Allow","Action":"events:PutEvents","Resource":"arn:aws:events:us-east-1:123456789012:event-bus/custom"}
	]}`)
	probs := resourceProblems(bad, known, wild)
	if len(probs) != 3 {
		t.Fatalf("problems: %q", probs)
	}
	for i, want := range []string{"table/event,", "lake-old/*", "event-bus/custom"} {
		if !strings.Contains(probs[i]+",", want) || !strings.Contains(probs[i], "no resource of the templates") {
			t.Errorf("problem %d does not name %s: %s", i, want, probs[i])
		}
	}
	if !strings.Contains(probs[0], "dynamodb:PutItem") {
		t.Errorf("the problem does not name the statement's actions: %s", probs[0])
	}
}

func TestTrustsLambda(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]}`:                          true,
		`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["states.amazonaws.com","lambda.amazonaws.com"]}}]}`: true,
		`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"states.amazonaws.com"}}]}`:                          false,
		`{"Statement":[{"Action":"sts:TagSession","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"}}]}`:                          false,
		`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"}}]}`:                           false,
	} {
		if got := trustsLambda([]byte(doc)); got != want {
			t.Errorf("%s: %v", doc, got)
		}
	}
}

func TestParsePolicyRefuses(t *testing.T) {
	for _, doc := range []string{
		`not json`,
		`{"Statement":"x"}`,
		`{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":{"a":1},"Resource":"*"}]}`,
	} {
		if _, err := parsePolicy([]byte(doc)); err == nil {
			t.Errorf("parsed %s", doc)
		}
	}
	if !slices.Equal(mustPolicy(t, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`).Statements[0].Action, []string{"s3:*"}) {
		t.Error("a single statement")
	}
}
