package replay_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventlake/eventlake/replay"
)

var deployment = replay.Deployment{
	Bucket: "lake-bucket", Prefix: "events/",
	Function:  "arn:aws:lambda:us-east-1:111111111111:function:orders-projector",
	SourceARN: "arn:aws:kinesis:us-east-1:111111111111:stream/events", Region: "us-east-1",
}

func decodeAndConfine(d replay.Deployment, input string) (replay.Job, error) {
	job, err := replay.DecodeJob([]byte(input))
	if err != nil {
		return job, err
	}
	return d.Confine(job)
}

func TestConfineRefusesJobsWithoutAnExplicitScope(t *testing.T) {
	for _, c := range []struct {
		input, field string
		says         []string // the error names the value and what is accepted
	}{
		{`{}`, "prefix", []string{"no scope given", `"events/2026/11/"`, `"from"`, `"to"`, `"all": true`}},
		{`null`, "prefix", []string{"no scope given"}},
		{`{"type": "order-*"}`, "prefix", []string{"no scope given"}},
		{`{"all": false}`, "prefix", []string{"no scope given"}},
		{`{"prefix": "events/"}`, "prefix", []string{`prefix "events/": the whole lake`, `"all": true`}},
		{`{"prefix": "other/2026/"}`, "prefix", []string{`"other/2026/"`, `outside the lake prefix "events/"`}},
		{`{"prefix": "events"}`, "prefix", []string{`"events"`, "outside the lake prefix"}},
		{`{"prefix": "events/2026/", "bucket": "another-bucket"}`, "bucket", []string{`"another-bucket"`, `"lake-bucket"`}},
		{`{"from": "2026-11-22T00:00:00Z", "to": "2026-11-21T00:00:00Z"}`, "to", []string{`"2026-11-21T00:00:00Z"`, `before "from" "2026-11-22T00:00:00Z"`}},
		{`{"all": true, "batchSize": 20000}`, "batchSize", []string{"20000", "from 1 to 10000"}},
		{`{"all": true, "concurrency": 65}`, "concurrency", []string{"65", "from 1 to 64"}},
		{`{"all": true, "rate": -1}`, "rate", []string{"-1", "negative"}},
		{`{"all": true, "asyncLimit": 10}`, "asyncLimit", []string{"10", "from 1024 to"}},
		{`{"all": true, "type": "order-["}`, "type", []string{`"order-["`, "glob"}},
		{`{"all": true, "function": "another-function"}`, "function", []string{`"another-function"`, deployment.Function}},
		{`{"all": true, "stream": "arn:aws:kinesis:us-east-1:111111111111:stream/s"}`, "stream", []string{"stream/s", deployment.Function}},
		// Refused while decoding: a misspelt field, a value of the wrong kind, not an object.
		{`{"prefix": "events/2026/", "tpye": "order-*"}`, "tpye", []string{`"order-*"`, "unknown field", "prefix", "type", "all"}},
		{`{"Prefix": "events/2026/"}`, "Prefix", []string{"unknown field", "case-sensitive"}},
		{`{"from": "yesterday"}`, "from", []string{`"yesterday"`, "RFC 3339"}},
		{`{"all": "yes"}`, "all", []string{`"yes"`, "true or false"}},
		{`{"prefix": "events/2026/", "batchSize": "ten"}`, "batchSize", []string{`"ten"`, "whole number"}},
		{`{"prefix": "events/2026/", "rate": "fast"}`, "rate", []string{`"fast"`, "must be a number"}},
		{`["events/2026/"]`, "input", []string{"not a JSON object"}},
	} {
		_, err := decodeAndConfine(deployment, c.input)
		var ie *replay.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an *replay.InputError", c.input, err)
			continue
		}
		if ie.Field != c.field || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("%s: field %q (%v), want %q", c.input, ie.Field, err, c.field)
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %s", c.input, err, s)
			}
		}
	}
}

func TestConfineAcceptsAnExplicitScopeAndFillsTheRest(t *testing.T) {
	for _, c := range []struct{ input, prefix string }{
		{`{"prefix": "events/2026/11/", "type": "order-*"}`, "events/2026/11/"},
		{`{"prefix": "events/2026/11/", "all": true}`, "events/2026/11/"},
		{`{"from": "2026-11-21T09:00:00Z"}`, "events/"},
		{`{"to": "2026-11-21T10:00:00Z"}`, "events/"},
		{`{"from": "2026-11-21T09:00:00Z", "to": "2026-11-21T10:00:00Z"}`, "events/"},
		{`{"prefix": "events/", "from": "2026-11-21T09:00:00Z"}`, "events/"},
		{`{"all": true}`, "events/"},
		{`{"prefix": "events/", "all": true, "bucket": "lake-bucket", "function": "` + deployment.Function + `"}`, "events/"},
	} {
		job, err := decodeAndConfine(deployment, c.input)
		if err != nil {
			t.Errorf("%s: %v", c.input, err)
			continue
		}
		if job.Bucket != "lake-bucket" || job.Prefix != c.prefix || job.Function != deployment.Function || job.Stream != "" ||
			job.SourceARN != deployment.SourceARN || job.Region != "us-east-1" {
			t.Errorf("%s: confined to %+v", c.input, job)
		}
		// The job a leg returns is the next leg's input: it must be accepted again, as it is.
		raw, _ := json.Marshal(job)
		again, err := decodeAndConfine(deployment, string(raw))
		if err != nil {
			t.Errorf("%s: the next leg's input %s is refused: %v", c.input, raw, err)
		} else if again.Prefix != job.Prefix || again.All != job.All || !again.From.Equal(job.From) {
			t.Errorf("%s: the next leg's job %+v differs from %+v", c.input, again, job)
		}
	}
}

func TestConfineToAStream(t *testing.T) {
	d := replay.Deployment{Bucket: "lake-bucket", Prefix: "events/", Stream: "arn:aws:kinesis:us-east-1:111111111111:stream/replay"}
	job, err := decodeAndConfine(d, `{"prefix": "events/2026/"}`)
	if err != nil || job.Stream != d.Stream || job.Function != "" {
		t.Errorf("job %+v, error %v", job, err)
	}
	var ie *replay.InputError
	if _, err := decodeAndConfine(d, `{"prefix": "events/2026/", "function": "f"}`); !errors.As(err, &ie) || ie.Field != "function" || !strings.Contains(err.Error(), d.Stream) {
		t.Errorf("a function for a stream deployment: %v", err)
	}
	if _, err := decodeAndConfine(d, `{"prefix": "events/2026/", "stream": "arn:aws:kinesis:us-east-1:111111111111:stream/other"}`); !errors.As(err, &ie) || ie.Field != "stream" {
		t.Errorf("another stream: %v", err)
	}
	if _, err := (replay.Deployment{Bucket: "b", Prefix: "events/"}).Confine(replay.Job{All: true}); err == nil || errors.As(err, &ie) {
		t.Errorf("a deployment without a target: %v; want an error that is not about the input", err)
	}
}

func TestDecodeJobKeepsEveryField(t *testing.T) {
	job := replay.Job{
		Options: replay.Options{Bucket: "b", Prefix: "events/2026/", From: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
			To: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), Type: "t-*", BatchSize: 7, Concurrency: 3, Rate: 2.5,
			AsyncLimit: 4096, Sync: true, DryRun: true, SourceARN: "arn", Region: "r", AdvancePastFailures: true},
		All: true, Function: "f", Checkpoint: "events/2026/11/21/09/o", Legs: 2,
		Totals: replay.Summary{Objects: 1, Read: 5, Filtered: 1, Delivered: 3, Failed: 1, Batches: 2, Invocations: 2, Bytes: 99,
			Checkpoint: "events/2026/11/21/09/o", Problems: []string{"failed: x"}},
	}
	raw, _ := json.Marshal(job)
	got, err := replay.DecodeJob(raw)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(got)
	if string(again) != string(raw) {
		t.Errorf("decoded\n%s\nwant\n%s", again, raw)
	}
}
