package rehearsal

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/eventstore"
	"github.com/eventlake/eventlake/test/rehearsal/cfn"
)

// TestRemovingAGrantFailsTheRehearsal is the proof: removing any one grant from a function's policy makes the
// rehearsal fail with that action named. For three functions whose happy path a hand-built event drives, the call
// succeeds with the template's policy and leaves its effect; with the action removed from the role's policy in moto,
// the rehearsal's denial check (what fails a test at its end) names the function, the action and the resource, and
// the effect is not there; with the policy restored, the call succeeds again.
//
// Two of the actions are of services moto checks by action only (DynamoDB, Step Functions): the rehearsal's gate
// refuses them, with their resource. The third is SQS, which moto checks itself, with the queue's ARN.
func TestRemovingAGrantFailsTheRehearsal(t *testing.T) {
	r := Start(t, AssemblyDir(t), WithoutEcho())
	d := r.Deployment()
	ctx := context.Background()
	cfg := r.AdminConfig()
	db, machines, queues := dynamodb.NewFromConfig(cfg), sfn.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	stream, err := d.ImportValue("EventlakeCore:ExportsOutputFnGetAttEventsStreamA348795CArnE1C9A74F")
	if err != nil {
		t.Fatal(err)
	}

	type run struct {
		out []byte
		err error
	}
	monitor := withEnv(t, r, "WATCHES")
	var watches []struct{ Bucket string }
	if err := json.Unmarshal([]byte(monitor.Environment["WATCHES"]), &watches); err != nil || len(watches) == 0 {
		t.Fatalf("WATCHES %s: %v", monitor.Environment["WATCHES"], err)
	}
	queued := 0 // the readings queue's messages before the monitor's invocation
	// monitorEvent gives the monitor the first object of a new hour each time: a new data set, whose observation it
	// starts (in the transaction that counts the object) and whose first reading it queues, delayed.
	monitorEvent := func(day int) func(i int) []byte {
		return func(i int) []byte {
			queued = countMessages(t, queues, monitor.Environment["QUEUE_URL"])
			return objectCreated(t, watches[0].Bucket, fmt.Sprintf("events/2026/11/%02d/%02d/part-%d.gz", day, i, i))
		}
	}
	readingQueued := func(t *testing.T, fn *Function, i int, _ run) bool {
		return countMessages(t, queues, fn.Environment["QUEUE_URL"]) == queued+1
	}

	cases := []struct {
		name     string
		fn       *Function
		action   string
		resource func(fn *Function) string
		event    func(i int) []byte
		// effect reports whether invocation i left its effect.
		effect func(t *testing.T, fn *Function, i int, res run) bool
	}{
		{
			name: "event store writer", fn: withEnv(t, r, "TABLE", "PAYLOAD_BUCKET", "SHARDS"), action: "dynamodb:BatchWriteItem",
			resource: func(fn *Function) string { return tableARN(fn.Environment["TABLE"]) },
			event: func(i int) []byte {
				return kinesisEvent(t, stream, fmt.Sprintf("grant-%d", i), "order-created", fmt.Sprintf("grant-entity-%d", i), i)
			},
			effect: func(t *testing.T, fn *Function, i int, _ run) bool {
				out, err := db.Query(ctx, &dynamodb.QueryInput{
					TableName: aws.String(fn.Environment["TABLE"]), ConsistentRead: aws.Bool(true),
					KeyConditionExpression:    aws.String("#pk = :pk"),
					ExpressionAttributeNames:  map[string]string{"#pk": eventstore.AttrPK},
					ExpressionAttributeValues: map[string]dtypes.AttributeValue{":pk": &dtypes.AttributeValueMemberS{Value: fmt.Sprintf("grant-entity-%d", i)}},
				})
				if err != nil {
					t.Fatal(err)
				}
				return out.Count == 1
			},
		},
		{
			name: "pipeline starter", fn: withEnv(t, r, "STATE_MACHINE_ARN"), action: "states:StartExecution",
			resource: func(fn *Function) string { return fn.Environment["STATE_MACHINE_ARN"] },
			event:    func(i int) []byte { return dataSetReady(t, fmt.Sprintf("lake-bucket/events/2026/11/24/%02d/", i)) },
			effect: func(t *testing.T, fn *Function, i int, res run) bool {
				var arn string
				if res.err != nil || json.Unmarshal(res.out, &arn) != nil {
					return false
				}
				out, err := machines.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
				if err != nil {
					t.Fatalf("execution %s the starter answered: %v", arn, err)
				}
				return strings.Contains(aws.ToString(out.Input), fmt.Sprintf("/%02d/", i))
			},
		},
		{
			name: "lake monitor", fn: monitor, action: "sqs:SendMessage",
			resource: func(fn *Function) string { return queueARN(fn.Environment["QUEUE_URL"]) },
			event:    monitorEvent(25), effect: readingQueued,
		},
		{
			// The monitor may put items only inside a transaction (a dynamodb:EnclosingOperation condition). moto
			// alone would not see this grant go: it authorizes the transaction as dynamodb:TransactWriteItems.
			name: "lake monitor, in a transaction", fn: monitor, action: "dynamodb:PutItem",
			resource: func(fn *Function) string { return tableARN(fn.Environment["TABLE"]) },
			event:    monitorEvent(26), effect: readingQueued,
		},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fn := c.fn
			invoke := func(i int) run {
				out, err := fn.Invoke(ctx, c.event(i))
				t.Logf("%s, invocation %d: %s %v", fn.Name(), i, out, err)
				return run{out, err}
			}

			// With the template's policy: the call is made, allowed, and leaves its effect.
			res := invoke(1)
			if res.err != nil {
				t.Fatalf("with the template's policy: %v\n%s", res.err, fn.Logs())
			}
			r.CheckDenials(t)
			if !c.effect(t, fn, 1, res) {
				t.Fatalf("with the template's policy, %s left no effect", c.action)
			}

			// Without the action: the rehearsal fails, naming the function, the action and the resource.
			policies := r.RolePolicies(fn.Stack, fn.RoleLogicalID)
			name, reduced, original := withoutAction(t, policies, c.action)
			if err := r.SetRolePolicy(ctx, fn.Stack, fn.RoleLogicalID, name, reduced); err != nil {
				t.Fatal(err)
			}
			restored := false
			defer func() { // should the case fail before it restores the policy, the next case still gets it whole
				if !restored {
					r.SetRolePolicy(ctx, fn.Stack, fn.RoleLogicalID, name, original)
					r.TakeDenials()
				}
			}()
			res = invoke(2)
			denials := r.Denials()
			rec := &recorder{TB: t}
			r.CheckDenials(rec)
			if !rec.Failed() {
				t.Fatalf("with %s removed from %s, the rehearsal did not fail", c.action, name)
			}
			t.Logf("the rehearsal fails with:\n%s", rec.report())
			resource := c.resource(fn)
			for _, e := range rec.errors {
				for _, want := range []string{fn.Name(), c.action, resource} {
					if !strings.Contains(e, want) {
						t.Errorf("the failure does not name %q: %s", want, e)
					}
				}
			}
			for _, dn := range denials[len(denials)-len(rec.errors):] {
				if dn.Action != c.action || dn.Resource != resource || dn.Function != fn.Name() {
					t.Errorf("denial %+v, want %s on %s by %s", dn, c.action, resource, fn.Name())
				}
			}
			if c.effect(t, fn, 2, res) {
				t.Errorf("with %s removed, the call still left its effect", c.action)
			}

			// Restored: the call succeeds again.
			if err := r.SetRolePolicy(ctx, fn.Stack, fn.RoleLogicalID, name, original); err != nil {
				t.Fatal(err)
			}
			restored = true
			res = invoke(3)
			if res.err != nil {
				t.Fatalf("with the policy restored: %v", res.err)
			}
			r.CheckDenials(t)
			if !c.effect(t, fn, 3, res) {
				t.Errorf("with the policy restored, %s left no effect", c.action)
			}
		})
	}
}

// countMessages counts a queue's messages, visible or delayed (the observer's readings are delayed).
func countMessages(t *testing.T, c *sqs.Client, queueURL string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &queueURL,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return n
}

// withoutAction finds the policy of a role that grants an action by name, and returns its name, its document without
// the action (a statement left with no action goes), and its document as it was. It fails the test when no policy
// names the action.
func withoutAction(t *testing.T, policies []cfn.PolicyDocument, action string) (name string, reduced, original []byte) {
	t.Helper()
	for _, pd := range policies {
		if pd.Document == nil || pd.ManagedPolicyARN != "" {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(pd.Document, &doc); err != nil {
			t.Fatal(err)
		}
		stmts, _ := doc["Statement"].([]any)
		var kept []any
		removed := false
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			acts, err := stringList(st["Action"])
			if err != nil || !slices.Contains(acts, action) {
				kept = append(kept, s)
				continue
			}
			removed = true
			acts = slices.DeleteFunc(acts, func(a string) bool { return a == action })
			if len(acts) > 0 {
				st["Action"] = acts
				kept = append(kept, st)
			}
		}
		if !removed {
			continue
		}
		doc["Statement"] = kept
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return pd.Name, b, pd.Document
	}
	t.Fatalf("no inline policy of the role grants %s", action)
	return "", nil, nil
}

func tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", Region, cfn.DefaultAccountID, name)
}

func queueARN(url string) string {
	return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", Region, cfn.DefaultAccountID, url[strings.LastIndex(url, "/")+1:])
}
