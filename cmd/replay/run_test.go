package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/eventlake/eventlake/replay"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--bucket", "b"},
		{"--bucket", "b", "--function", "f", "--stream", "arn:aws:kinesis:us-east-1:1:stream/s"},
		{"--bucket", "b", "--function", "f", "--from", "yesterday"},
		{"--bucket", "b", "--function", "f", "--batch-size", "0"},
		{"--bucket", "b", "--function", "f", "--from", "2026-11-21T10:00:00Z", "--to", "2026-11-21T09:00:00Z"},
		{"--bucket", "b", "--function", "f", "extra"},
		{"--bucket", "b", "--function", "f", "--no-such-flag"},
		{"--bucket", "b", "--table", "t", "--function", "f"},
		{"--table", "t", "--function", "f"},
		{"--table", "t", "--from", "2026-11-21T09:00:00Z", "--to", "2026-11-21T10:00:00Z", "--function", "f", "--shards", "0"},
		{"--table", "t", "--from", "2026-11-21T09:00:00Z", "--to", "2026-11-21T10:00:00Z", "--function", "f", "--shards", "257"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != exitUsage || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != exitOK || !strings.Contains(errOut.String(), "e.g. --checkpoint") {
		t.Errorf("--help: exit %d, %q", code, errOut.String())
	}
}

func lakeWith(t *testing.T, lines ...string) string {
	cfg := moto.Config(t)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true; o.DisableLogOutputChecksumValidationSkipped = true })
	bucket := fmt.Sprintf("cli-%d", time.Now().UnixNano())
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	_, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("events/2026/11/21/09/o"),
		Body: strings.NewReader(strings.Join(lines, "\n"))})
	if err != nil {
		t.Fatal(err)
	}
	return bucket
}

func summary(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var s map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("last stdout line %q is not JSON: %v", lines[len(lines)-1], err)
	}
	for _, k := range []string{"objects", "read", "filtered", "delivered", "wouldDeliver", "failed", "oversized", "malformed",
		"batches", "invocations", "bytes", "dryRun", "done"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary has no %q: %v", k, s)
		}
	}
	if _, ok := s["events"]; ok {
		t.Errorf("summary has the ambiguous \"events\": %v", s)
	}
	return s
}

// summaryFields are the JSON names of replay.Summary's fields.
func summaryFields() []string {
	var names []string
	typ := reflect.TypeFor[replay.Summary]()
	for i := range typ.NumField() {
		if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); name != "-" {
			names = append(names, name)
		}
	}
	return names
}

func TestHelpDocumentsEverySummaryFieldAndExitStatus(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out, &errOut); code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	doc, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"--help": errOut.String(), "the package documentation": string(doc)} {
		for _, name := range summaryFields() {
			if !regexp.MustCompile(`(?m)^(//\t|  )` + name + ` +\S`).MatchString(text) {
				t.Errorf("%s does not document the summary field %q", where, name)
			}
		}
	}
	for _, want := range []string{"Exit status:\n  0 ", "\n  1 ", "\n  2 ", "does not exist"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestReplayCommandAgainstMoto(t *testing.T) {
	bucket := lakeWith(t, `{"id":"1","type":"a","partitionKey":"k","timestamp":1}`, `{"id":"2","type":"b","partitionKey":"k","timestamp":2}`, "garbage")
	moto.LambdaWithoutDocker(t)
	fn := moto.NewFunction(t, moto.Config(t), fmt.Sprintf("cli-%d", time.Now().UnixNano()))
	cp := filepath.Join(t.TempDir(), "cp.json")

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--checkpoint", cp}, &out, &errOut)
	s := summary(t, out.String())
	if code != exitOK || s["delivered"] != 2.0 || s["read"] != 2.0 || s["wouldDeliver"] != 0.0 || s["malformed"] != 1.0 || s["invocations"] != 1.0 {
		t.Errorf("exit %d, summary %v, stderr %s", code, s, errOut.String())
	}
	if !strings.Contains(errOut.String(), "line 3") {
		t.Errorf("stderr does not report the malformed line: %s", errOut.String())
	}
	// Run again with the checkpoint: everything is done, nothing is sent again.
	out.Reset()
	code = run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--checkpoint", cp}, &out, &errOut)
	if s := summary(t, out.String()); code != exitOK || s["delivered"] != 0.0 || s["read"] != 0.0 || s["objects"] != 0.0 {
		t.Errorf("resumed after completion: exit %d, summary %v", code, s)
	}
	// Dry run with a type filter sends nothing.
	out.Reset()
	code = run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--dry-run", "--type", "b"}, &out, &errOut)
	if s := summary(t, out.String()); code != exitOK || s["dryRun"] != true || s["wouldDeliver"] != 1.0 || s["delivered"] != 0.0 ||
		s["read"] != 2.0 || s["filtered"] != 1.0 || s["invocations"] != 0.0 {
		t.Errorf("dry run: exit %d, summary %v", code, s)
	}
}

func TestUndeliveredExits1(t *testing.T) {
	huge := `{"id":"h","type":"a","partitionKey":"k","blob":"` + strings.Repeat("x", 7<<20) + `"}`
	bucket := lakeWith(t, `{"id":"1","type":"a","partitionKey":"k"}`, huge)
	moto.LambdaWithoutDocker(t)
	fn := moto.NewFunction(t, moto.Config(t), fmt.Sprintf("cli-big-%d", time.Now().UnixNano()))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bucket", bucket, "--function", fn}, &out, &errOut)
	if s := summary(t, out.String()); code != exitUndelivered || s["oversized"] != 1.0 || s["delivered"] != 1.0 || s["read"] != 2.0 {
		t.Errorf("exit %d, summary %v", code, s)
	}
	if !strings.Contains(errOut.String(), "oversized") {
		t.Errorf("stderr does not name the oversized event: %s", errOut.String())
	}
}

// noFunctions stands in for the Lambda API of an account without the function asked for: like Lambda, it answers
// ResourceNotFoundException to every Invoke, the DryRun check included (moto's Docker-free Lambda answers Invoke for
// any name, so it cannot show a missing function). It keeps the invocation types it was called with.
type noFunctions struct {
	*httptest.Server
	mu    sync.Mutex
	types []string
}

func newNoFunctions(t *testing.T) *noFunctions {
	a := &noFunctions{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.types = append(a.types, r.Header.Get("X-Amz-Invocation-Type"))
		a.mu.Unlock()
		name, _ := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(r.URL.EscapedPath(), "/2015-03-31/functions/"), "/invocations"))
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:%s"}`, name)
	}))
	t.Cleanup(a.Close)
	return a
}

func TestMissingFunctionEndsTheRunBeforeReading(t *testing.T) {
	bucket := lakeWith(t, `{"id":"1","type":"a","partitionKey":"k"}`, `{"id":"2","type":"a","partitionKey":"j"}`)
	api := newNoFunctions(t)
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", api.URL) // S3 stays on moto
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bucket", bucket, "--function", "orders-projektor"}, &out, &errOut)
	s := summary(t, out.String())
	if code != exitUndelivered || s["objects"] != 0.0 || s["read"] != 0.0 || s["done"] != false {
		t.Errorf("exit %d, summary %v; want 1 and nothing read", code, s)
	}
	if strings.Join(api.types, ",") != "DryRun" {
		t.Errorf("invocations %v; want only the DryRun check", api.types)
	}
	if !strings.Contains(errOut.String(), "replay: the function orders-projektor does not exist") || !strings.Contains(errOut.String(), "nothing was read or sent") {
		t.Errorf("stderr does not say that the function does not exist: %s", errOut.String())
	}
}

func TestMissingStreamEndsTheRunBeforeReading(t *testing.T) {
	bucket := lakeWith(t, `{"id":"1","type":"a","partitionKey":"k"}`)
	stream := "arn:aws:kinesis:us-east-1:123456789012:stream/no-such-replay-stream"
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bucket", bucket, "--stream", stream}, &out, &errOut)
	if s := summary(t, out.String()); code != exitUndelivered || s["objects"] != 0.0 || s["read"] != 0.0 {
		t.Errorf("exit %d, summary %v; want 1 and nothing read", code, s)
	}
	if !strings.Contains(errOut.String(), "replay: the stream "+stream+" does not exist") {
		t.Errorf("stderr does not say that the stream does not exist: %s", errOut.String())
	}
}
