package rehearsal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventlake/eventlake/test/rehearsal/lambdart"
)

// hangAfter bounds each invocation of the bad-input test: far below the functions' timeouts (up to 15 minutes), far
// above what an answer takes under qemu (milliseconds warm, a few hundred cold).
const hangAfter = 20 * time.Second

// badInputs are events no function of the blueprint takes: an empty object, a list, a string, and a 200 KB object of
// no event's shape. None has a ResponseURL: the mapper, a custom resource handler, must answer without one.
func badInputs(t *testing.T) map[string][]byte {
	t.Helper()
	var rows []map[string]any
	size := 0
	for i := 0; size < 200<<10; i++ {
		row := map[string]any{"n": i, "label": fmt.Sprintf("row %d", i), "blob": strings.Repeat("x", 1000), "nested": map[string]any{"ok": i%2 == 0}}
		b, _ := json.Marshal(row)
		size += len(b) + 1
		rows = append(rows, row)
	}
	big, err := json.Marshal(map[string]any{"rows": rows, "kind": "not an event"})
	if err != nil {
		t.Fatal(err)
	}
	if len(big) < 200<<10 {
		t.Fatalf("the big object is %d bytes", len(big))
	}
	return map[string][]byte{
		"{}":              []byte(`{}`),
		"[]":              []byte(`[]`),
		"a JSON string":   []byte(`"not an event"`),
		"a 200 KB object": big,
	}
}

// order is the order the bad inputs are given in: the empty object first, the cold start.
var badInputOrder = []string{"{}", "[]", "a JSON string", "a 200 KB object"}

// TestBadInput is scenario 5: every function of the templates starts with its template environment (an init failure
// — a missing or misspelt variable makes a handler exit at init — fails the test), and answers each bad input with a
// response or a function error (an error, or an ignored record): none crashes, none hangs, none is restarted. The
// mapper also gets a CloudFormation request with no ResponseURL.
func TestBadInput(t *testing.T) {
	r := Start(t, AssemblyDir(t), WithoutEcho())
	inputs := badInputs(t)
	cfnRequest := []byte(`{"RequestType":"Create","ServiceToken":"arn:aws:lambda:us-east-1:123456789012:function:mapper",` +
		`"StackId":"arn:aws:cloudformation:us-east-1:123456789012:stack/EventlakeSubscribers/guid","RequestId":"req-1",` +
		`"LogicalResourceId":"Subscription","ResourceType":"Custom::EventlakeSubscription","ResourceProperties":{}}`)

	for _, fn := range r.Functions() {
		t.Run(fn.Stack+"/"+fn.LogicalID, func(t *testing.T) {
			order := badInputOrder
			if fn.Spec.Description != "" {
				t.Logf("%s: %s", fn.Name(), fn.Spec.Description)
			}
			mapper := strings.Contains(fn.LogicalID, "Mapper")
			if mapper {
				inputs["a CloudFormation request without ResponseURL"] = cfnRequest
				order = append(order[:len(order):len(order)], "a CloudFormation request without ResponseURL")
			}
			for i, name := range order {
				ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
				res, err := fn.Run(ctx, lambdart.Invocation{Payload: inputs[name]})
				cancel()
				var fe *lambdart.FunctionError
				var re *lambdart.RuntimeError
				switch {
				case err == nil:
					t.Logf("%s → response %s", name, clip(res.Payload))
				case errors.As(err, &fe):
					t.Logf("%s → function error %s: %s", name, fe.Type, clip([]byte(fe.Message)))
				case errors.As(err, &re) && re.Init:
					t.Fatalf("%s does not start with its template environment %v: %v", fn.Name(), fn.Environment, err)
				case errors.As(err, &re):
					t.Errorf("%s → the function crashed (%s): %v", name, re.Type, err)
				case errors.Is(err, context.DeadlineExceeded):
					t.Errorf("%s → no answer after %s: the function hangs", name, hangAfter)
				default:
					t.Errorf("%s → %v", name, err)
				}
				if i == 0 && (res == nil || !res.ColdStart) {
					t.Errorf("the first invocation was no cold start")
				}
			}
			if s := fn.Stats(); s.ColdStarts != 1 || s.Invocations != len(order) {
				t.Errorf("%d invocations and %d cold starts, want %d and 1 (a process was replaced)", s.Invocations, s.ColdStarts, len(order))
			}
			if t.Failed() {
				t.Logf("logs of %s:\n%s", fn.Name(), fn.Logs())
			}
		})
	}

	// The test catches what it exists for: the event store writer's bootstrap with one variable of its template
	// missing fails its init, and the test's own check would report it.
	t.Run("a missing variable is an init failure", func(t *testing.T) {
		writer := withEnv(t, r, "TABLE", "PAYLOAD_BUCKET", "SHARDS")
		cfg := writer.Config()
		delete(cfg.Environment, "SHARDS")
		cfg.Name += "-without-SHARDS"
		cfg.Echo = nil
		fn, err := lambdart.NewFunction(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer fn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), hangAfter)
		defer cancel()
		_, err = fn.Invoke(ctx, []byte(`{}`))
		var re *lambdart.RuntimeError
		if !errors.As(err, &re) || !re.Init {
			t.Fatalf("without SHARDS: %v, want an init failure\n%s", err, fn.Logs())
		}
		t.Logf("without SHARDS: %v", err)
	})
}

// clip shortens what a function answered for the log.
func clip(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return s
}
