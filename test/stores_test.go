package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/eventstore"
	"github.com/eventlake/eventlake/constructs/microstore"
)

func TestEventStoreTable(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	es := eventstore.NewEventStore(stack, jsii.String("Store"), &eventstore.EventStoreProps{Stream: s, Shards: jsii.Number(32)})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"Properties": map[string]any{
			"BillingMode":                      "PAY_PER_REQUEST",
			"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"DeletionProtectionEnabled":        true,
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
			"GlobalSecondaryIndexes": []any{assertions.Match_ObjectLike(&map[string]any{
				"IndexName": "byTime", "KeySchema": []any{map[string]any{"AttributeName": "tpk", "KeyType": "HASH"}, map[string]any{"AttributeName": "tsk", "KeyType": "RANGE"}},
			})},
		},
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"SHARDS": "32"})},
	})
	tmpl.ResourceCountIs(jsii.String("Custom::EventlakeSubscription"), jsii.Number(1))
	// The writer may only write items and payloads.
	policy := findPolicy(t, tmpl, "StoreWriterRoleDefaultPolicy")
	for _, banned := range []string{"dynamodb:DeleteItem", "dynamodb:Scan", "s3:DeleteObject", "s3:GetObject"} {
		if strings.Contains(policy, banned) {
			t.Errorf("writer policy grants %s: %s", banned, policy)
		}
	}
	if es.Table() == nil || es.Writer() == nil || es.PayloadBucket() == nil || es.Subscription() == nil {
		t.Error("accessors must expose the L2s")
	}
	mustPanic(t, func() {
		eventstore.NewEventStore(stack, jsii.String("Bad"), &eventstore.EventStoreProps{Stream: s, Shards: jsii.Number(0)})
	}, "Shards", "0", "1 to 256")
}

func TestMicroStore(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	trigger := subscriberFn(stack, "Logic")
	ms := microstore.NewMicroStore(stack, jsii.String("Orders"), &microstore.MicroStoreProps{
		Stream: s, Types: []string{"order-*", "payment-settled"}, KeyField: jsii.String("orderId"), Trigger: trigger,
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "key", "KeyType": "HASH"}, map[string]any{"AttributeName": "pos", "KeyType": "RANGE"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "ttl", "Enabled": true},
		"StreamSpecification":     map[string]any{"StreamViewType": "NEW_IMAGE"},
	})
	// The listener only hears its types: Lambda filters them out before invoking it.
	tmpl.HasResourceProperties(jsii.String("Custom::EventlakeSubscription"), map[string]any{
		"FilterPatterns": []any{`{"data":{"type":[{"prefix":"order-"},"payment-settled"]}}`},
	})
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"TYPES": "order-*,payment-settled", "KEY_FIELD": "orderId", "RETENTION_DAYS": "33"})},
	})
	// The trigger reads the table's stream, INSERTs only, with partial failures and a failure queue.
	tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"FilterCriteria":             map[string]any{"Filters": []any{map[string]any{"Pattern": `{"eventName":["INSERT"]}`}}},
		"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
		"BisectBatchOnFunctionError": true,
		"DestinationConfig":          map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^OrdersTriggerFailures")), "Arn"}}}},
	})
	// Two readers of the table stream at most.
	ms.AddTrigger("Second", subscriberFn(stack, "Second"))
	mustPanic(t, func() { ms.AddTrigger("Third", subscriberFn(stack, "Third")) }, "reader 3", "at most 2")
}

func TestMicroStoreValidation(t *testing.T) {
	for name, c := range map[string]struct {
		props func(awskinesis.IStream) *microstore.MicroStoreProps
		want  []string
	}{
		"no types": {func(s awskinesis.IStream) *microstore.MicroStoreProps { return &microstore.MicroStoreProps{Stream: s} }, []string{"Types is required"}},
		"retention": {func(s awskinesis.IStream) *microstore.MicroStoreProps {
			return &microstore.MicroStoreProps{Stream: s, Types: []string{"a"}, RetentionDays: jsii.Number(0)}
		}, []string{"RetentionDays", "0", "1 to 3650"}},
		"key field": {func(s awskinesis.IStream) *microstore.MicroStoreProps {
			return &microstore.MicroStoreProps{Stream: s, Types: []string{"a"}, KeyField: jsii.String("a b")}
		}, []string{"KeyField", "a b"}},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack()
			s := awskinesis.NewStream(stack, jsii.String("S"), nil)
			mustPanic(t, func() { microstore.NewMicroStore(stack, jsii.String(fmt.Sprint("M", name)), c.props(s)) }, c.want...)
		})
	}
}
