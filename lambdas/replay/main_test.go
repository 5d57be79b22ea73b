package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
)

// fakeLake is an empty lake that counts its calls.
type fakeLake struct{ calls int }

func (f *fakeLake) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.calls++
	return &s3.ListObjectsV2Output{}, nil
}

func (f *fakeLake) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.calls++
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(""))}, nil
}

// fakeLambda answers every call and keeps the functions and invocation types it was called with.
type fakeLambda struct{ calls []string }

func (f *fakeLambda) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.calls = append(f.calls, *in.FunctionName+" "+string(in.InvocationType))
	return &lambda.InvokeOutput{}, nil
}

const target = "arn:aws:lambda:us-east-1:111111111111:function:orders-projector"

func newHandler() (*handler, *fakeLake, *fakeLambda) {
	lake, fn := &fakeLake{}, &fakeLambda{}
	return &handler{
		deployment: replay.Deployment{Bucket: "lake", Prefix: "events/", Function: target, Region: "us-east-1"},
		s3:         lake, lambda: fn, logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}, lake, fn
}

func TestRefusedInputReadsAndSendsNothing(t *testing.T) {
	for _, input := range []string{`{}`, `{"prefix": "events/"}`, `{"prefix": "other/"}`, `{"prefix": "events/2026/", "tpye": "x"}`,
		`{"from": "2026-11-22T00:00:00Z", "to": "2026-11-21T00:00:00Z"}`} {
		h, lake, fn := newHandler()
		_, err := h.handle(context.Background(), json.RawMessage(input))
		var ie *replay.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v; want a *replay.InputError", input, err)
			continue
		}
		// aws-lambda-go names a function error after the Go type of the error returned; the state machine fails the
		// execution at once on that name (constructs/replay).
		if name := reflect.TypeOf(err).Elem().Name(); name != "InputError" {
			t.Errorf("%s: the error is a %T, which Lambda would report as %q, not InputError", input, err, name)
		}
		if lake.calls != 0 || len(fn.calls) != 0 {
			t.Errorf("%s: %d lake calls and invocations %v before refusing", input, lake.calls, fn.calls)
		}
	}
}

func TestLegReplaysTheScopeIntoTheTarget(t *testing.T) {
	h, lake, fn := newHandler()
	next, err := h.handle(context.Background(), json.RawMessage(`{"prefix": "events/2026/11/", "type": "order-*"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !next.Done || next.Legs != 1 || next.Function != target || next.Bucket != "lake" || next.Prefix != "events/2026/11/" || lake.calls == 0 {
		t.Errorf("next job %+v after %d lake calls", next, lake.calls)
	}
	if len(fn.calls) != 1 || fn.calls[0] != target+" DryRun" {
		t.Errorf("invocations %v; want the target's check", fn.calls)
	}
	// The job returned is the next leg's input.
	raw, _ := json.Marshal(next)
	if _, err := h.handle(context.Background(), raw); err != nil {
		t.Errorf("the next leg refuses %s: %v", raw, err)
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(next.Totals)
	for _, field := range []string{`"read"`, `"delivered"`, `"wouldDeliver"`} {
		if !strings.Contains(buf.String(), field) {
			t.Errorf("totals %s lack %s", buf.String(), field)
		}
	}
}
