package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
	for _, k := range []string{"objects", "events", "batches", "invocations", "bytes", "malformed", "filtered", "failed", "dryRun"} {
		if _, ok := s[k]; !ok {
			t.Errorf("summary has no %q: %v", k, s)
		}
	}
	return s
}

func TestReplayCommandAgainstMoto(t *testing.T) {
	bucket := lakeWith(t, `{"id":"1","type":"a","partitionKey":"k","timestamp":1}`, `{"id":"2","type":"b","partitionKey":"k","timestamp":2}`, "garbage")
	moto.LambdaWithoutDocker(t)
	fn := moto.NewFunction(t, moto.Config(t), fmt.Sprintf("cli-%d", time.Now().UnixNano()))
	cp := filepath.Join(t.TempDir(), "cp.json")

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--checkpoint", cp}, &out, &errOut)
	s := summary(t, out.String())
	if code != exitOK || s["events"] != 2.0 || s["malformed"] != 1.0 || s["invocations"] != 1.0 {
		t.Errorf("exit %d, summary %v, stderr %s", code, s, errOut.String())
	}
	if !strings.Contains(errOut.String(), "line 3") {
		t.Errorf("stderr does not report the malformed line: %s", errOut.String())
	}
	// Run again with the checkpoint: everything is done, nothing is sent again.
	out.Reset()
	code = run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--checkpoint", cp}, &out, &errOut)
	if s := summary(t, out.String()); code != exitOK || s["events"] != 0.0 || s["objects"] != 0.0 {
		t.Errorf("resumed after completion: exit %d, summary %v", code, s)
	}
	// Dry run with a type filter sends nothing.
	out.Reset()
	code = run(context.Background(), []string{"--bucket", bucket, "--function", fn, "--dry-run", "--type", "b"}, &out, &errOut)
	if s := summary(t, out.String()); code != exitOK || s["dryRun"] != true || s["events"] != 1.0 || s["filtered"] != 1.0 || s["invocations"] != 0.0 {
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
	if s := summary(t, out.String()); code != exitUndelivered || s["oversized"] != 1.0 || s["events"] != 1.0 {
		t.Errorf("exit %d, summary %v", code, s)
	}
	if !strings.Contains(errOut.String(), "oversized") {
		t.Errorf("stderr does not name the oversized event: %s", errOut.String())
	}
}
