package customres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/eventlake/eventlake/customresource"
	"github.com/eventlake/eventlake/test/rehearsal/customres"
)

// wrapped runs a customresource handler in process, as the deployed mapper runs it: it decodes the event and
// answers at the ResponseURL.
type wrapped func(ctx context.Context, event cfn.Event) error

func (w wrapped) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var event cfn.Event
	if err := json.Unmarshal(payload, &event); err != nil {
		return nil, err
	}
	return nil, w(ctx, event)
}

func handler(h customresource.Handler) customres.Invoker {
	return wrapped(customresource.Wrap(h, customresource.Options{}))
}

func runner(t *testing.T) *customres.Runner {
	t.Helper()
	r, err := customres.NewRunner()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestCreateUpdateDelete(t *testing.T) {
	r := runner(t)
	var seen []cfn.Event
	fn := handler(func(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
		seen = append(seen, event)
		return "mapping-1", map[string]any{"UUID": "mapping-1"}, nil
	})
	ctx := context.Background()
	props := map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:mapper", "BatchSize": json.Number("100"), "Enabled": true,
		"Nested": []any{map[string]any{"N": 1.5}}}
	for _, req := range []customres.Request{
		{Type: cfn.RequestCreate, Properties: props},
		{Type: cfn.RequestUpdate, PhysicalResourceID: "mapping-1", Properties: props, OldProperties: props},
		{Type: cfn.RequestDelete, PhysicalResourceID: "mapping-1", Properties: props},
	} {
		req.ResourceType, req.LogicalResourceID, req.StackID = "Custom::EventlakeSubscription", "Sub", "arn:aws:cloudformation:us-east-1:123456789012:stack/S/1"
		resp, err := r.Run(ctx, fn, req, 30*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", req.Type, err)
		}
		if resp.Status != cfn.StatusSuccess || resp.PhysicalResourceID != "mapping-1" || resp.Data["UUID"] != "mapping-1" {
			t.Errorf("%s answered %+v", req.Type, resp)
		}
	}
	if len(seen) != 3 {
		t.Fatalf("the function saw %d events, want 3", len(seen))
	}
	// CloudFormation hands scalars to custom resources as strings.
	p := seen[0].ResourceProperties
	if p["BatchSize"] != "100" || p["Enabled"] != "true" || p["Nested"].([]any)[0].(map[string]any)["N"] != "1.5" {
		t.Errorf("properties as the function got them: %v", p)
	}
	if seen[1].OldResourceProperties == nil || seen[1].PhysicalResourceID != "mapping-1" || seen[2].RequestType != cfn.RequestDelete {
		t.Errorf("update and delete events: %+v %+v", seen[1], seen[2])
	}
}

func TestFailedAnswerCarriesTheReason(t *testing.T) {
	r := runner(t)
	fn := handler(func(ctx context.Context, event cfn.Event) (string, map[string]any, error) {
		return "", nil, errors.New("BatchSize: 20000 is above 10000")
	})
	resp, err := r.Run(context.Background(), fn, customres.Request{Type: cfn.RequestCreate, ResourceType: "Custom::X", LogicalResourceID: "Sub", StackID: "s"}, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != cfn.StatusFailed || !strings.Contains(resp.Reason, "20000") || resp.PhysicalResourceID == "" {
		t.Errorf("answer %+v: want FAILED with the reason and a physical id", resp)
	}
}

// silent never answers, like a function killed before it could.
type silent struct{}

func (silent) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return nil, errors.New("killed")
}

func TestNoAnswerIsAnError(t *testing.T) {
	r := runner(t)
	start := time.Now()
	_, err := r.Run(context.Background(), silent{}, customres.Request{Type: cfn.RequestCreate, LogicalResourceID: "Sub"}, 300*time.Millisecond)
	if !errors.Is(err, customres.ErrNoAnswer) || !strings.Contains(err.Error(), "killed") {
		t.Errorf("err = %v, want ErrNoAnswer with the function's own error", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want the service timeout", d)
	}
}

// raw answers every event itself, after edit changes the answer.
type raw struct{ edit func(*cfn.Response) }

func (r raw) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var event cfn.Event
	if err := json.Unmarshal(payload, &event); err != nil {
		return nil, err
	}
	resp := cfn.NewResponse(&event)
	resp.Status, resp.PhysicalResourceID = cfn.StatusSuccess, "p"
	r.edit(resp)
	body, _ := json.Marshal(resp)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, event.ResponseURL, bytes.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
	return nil, err
}

func TestAnswerIsCheckedAsCloudFormationChecksIt(t *testing.T) {
	r := runner(t)
	for _, c := range []struct {
		name string
		req  customres.Request
		edit func(*cfn.Response)
		want string
	}{
		{"ids", customres.Request{Type: cfn.RequestCreate}, func(a *cfn.Response) { a.LogicalResourceID = "Other" }, "not the request's"},
		{"status", customres.Request{Type: cfn.RequestCreate}, func(a *cfn.Response) { a.Status = "DONE" }, "want SUCCESS or FAILED"},
		{"physical id", customres.Request{Type: cfn.RequestCreate}, func(a *cfn.Response) { a.PhysicalResourceID = "" }, "no PhysicalResourceId"},
		{"reason", customres.Request{Type: cfn.RequestCreate}, func(a *cfn.Response) { a.Status = cfn.StatusFailed }, "no Reason"},
		{"delete", customres.Request{Type: cfn.RequestDelete, PhysicalResourceID: "q"}, func(a *cfn.Response) {}, "Delete answered with PhysicalResourceId"},
		{"size", customres.Request{Type: cfn.RequestCreate}, func(a *cfn.Response) { a.Reason = strings.Repeat("x", 5000) }, "4096 bytes"},
	} {
		c.req.LogicalResourceID, c.req.StackID = "Sub", "s"
		_, err := r.Run(context.Background(), raw{c.edit}, c.req, 5*time.Second)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
	}
	if _, err := r.Run(context.Background(), raw{func(*cfn.Response) {}}, customres.Request{Type: cfn.RequestCreate, LogicalResourceID: "Sub", StackID: "s"}, 5*time.Second); err != nil {
		t.Errorf("a good answer: %v", err)
	}
}
