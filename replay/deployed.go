package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Job is the input and the output of one leg of the deployed replay (lambdas/replay, driven by a Step Functions
// loop): the same options as the command line, the checkpoint to resume after, and the totals of the legs so far.
//
// A job names its scope explicitly (see [Deployment.Confine]): a prefix below the lake's, a time range, or All.
type Job struct {
	Options
	// All, true, replays the whole lake (under the deployed lake prefix) when neither a prefix below the lake prefix
	// nor a time range is given. Without it, such a job is refused, so that an empty input never replays the whole
	// lake into a live service.
	All bool `json:"all,omitempty"`
	// Function is the function to replay into; leave it out to use the one the deployed replay is made for.
	Function string `json:"function,omitempty"`
	// Stream is the replay stream to write into; leave it out to use the one the deployed replay is made for.
	Stream string `json:"stream,omitempty"`
	// Checkpoint is the last object completed by the legs so far.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Totals adds up the legs' summaries.
	Totals Summary `json:"totals"`
	// Legs counts the legs run.
	Legs int `json:"legs"`
	// Done is true once the whole range is replayed.
	Done bool `json:"done"`
}

// jobFields maps each JSON field of a Job to its struct field, in the order of the struct.
var jobFields, jobFieldNames = func() (map[string][]int, []string) {
	m := map[string][]int{}
	var names []string
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(slices.Clone(index), i)
			if f.Anonymous {
				walk(f.Type, idx)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			m[name] = idx
			names = append(names, name)
		}
	}
	walk(reflect.TypeFor[Job](), nil)
	return m, names
}()

// DecodeJob decodes a deployed replay's JSON input (an execution's input, or the job a leg returned). A field it does
// not know, such as a misspelt "tpye", is refused rather than ignored, and a value of the wrong kind is refused with
// the field's name: both as an *InputError. JSON null is an empty job (which [Deployment.Confine] refuses).
func DecodeJob(raw []byte) (Job, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Job{}, &InputError{Field: "input", Value: truncate(raw, 100), Want: "not a JSON object: " + err.Error()}
	}
	var job Job
	v := reflect.ValueOf(&job).Elem()
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, name := range keys {
		index, ok := jobFields[name]
		if !ok {
			return Job{}, &InputError{Field: name, Value: truncate(fields[name], 100),
				Want: "unknown field (names are case-sensitive); the fields are " + strings.Join(jobFieldNames, ", ")}
		}
		f := v.FieldByIndex(index)
		if err := json.Unmarshal(fields[name], f.Addr().Interface()); err != nil {
			return Job{}, &InputError{Field: name, Value: truncate(fields[name], 100), Want: "must be " + kindOf(f.Type())}
		}
	}
	return job, nil
}

func kindOf(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return `an RFC 3339 time such as "2026-11-21T09:00:00Z"`
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "a whole number"
	case t.Kind() == reflect.Float64:
		return "a number"
	}
	return "a JSON " + t.Kind().String()
}

// Deployment is what a deployed replay is made for (lambdas/replay reads it from its environment): the one lake it
// may read and the one target it may deliver to.
type Deployment struct {
	// Bucket is the lake bucket.
	Bucket string
	// Prefix is the lake's key prefix, such as "events/"; the replay reads only under it.
	Prefix string
	// Function is the target function's ARN. Exactly one of Function and Stream.
	Function string
	// Stream is the target replay stream's ARN. Exactly one of Function and Stream.
	Stream string
	// SourceARN, when set, is the eventSourceARN of the replayed records unless the job gives one.
	SourceARN string
	// Region is set as each record's awsRegion.
	Region string
}

// Confine checks a job (an execution's input, or the job a leg returned) against the deployment before anything is
// read or sent, and returns it with what it leaves out filled in: the bucket, the prefix (the lake prefix, when the
// scope is a time range or All), the target, the source ARN and the region. A job it refuses gets an *InputError that
// names the field, the value and what is accepted.
//
// The job must name its scope, so that a slip such as an empty input never replays the whole lake into the target:
//   - a prefix strictly below the lake prefix ("events/2026/11/" under "events/"), or
//   - a time range: from, to, or both (RFC 3339), or
//   - all: true, to replay the whole lake.
//
// Besides: the bucket, when given, must be the deployment's; the prefix, when given, must lie under the lake prefix;
// from must not be after to; the options must be in range ([Options]); and the job may name only the deployment's
// target.
func (d Deployment) Confine(job Job) (Job, error) {
	if (d.Function == "") == (d.Stream == "") {
		return job, fmt.Errorf("replay deployment: give exactly one target, a function or a stream (function %q, stream %q)", d.Function, d.Stream)
	}
	if job.Bucket == "" {
		job.Bucket = d.Bucket
	}
	if job.Bucket != d.Bucket {
		return job, &InputError{"bucket", quote(job.Bucket), fmt.Sprintf("this replay reads only the lake bucket %q; leave bucket out", d.Bucket)}
	}
	example := d.Prefix + "2026/11/"
	if job.Prefix != "" && !strings.HasPrefix(job.Prefix, d.Prefix) {
		return job, &InputError{"prefix", quote(job.Prefix), fmt.Sprintf("outside the lake prefix %q; give a prefix under it, such as %q", d.Prefix, example)}
	}
	below := job.Prefix != "" && job.Prefix != d.Prefix
	timed := !job.From.IsZero() || !job.To.IsZero()
	if !below && !timed && !job.All {
		scope := fmt.Sprintf(`give a prefix below the lake prefix %q (such as %q), a time range ("from", "to" or both, RFC 3339 times), or "all": true to replay the whole lake`, d.Prefix, example)
		if job.Prefix == "" {
			return job, &InputError{"prefix", "", "no scope given: " + scope}
		}
		return job, &InputError{"prefix", quote(job.Prefix), "the whole lake: " + scope}
	}
	if _, err := job.Options.withDefaults(); err != nil {
		return job, err
	}
	switch {
	case d.Function != "" && job.Stream != "":
		return job, &InputError{"stream", quote(job.Stream), fmt.Sprintf("this replay delivers only to the function %s; leave stream out", d.Function)}
	case d.Function != "" && job.Function != "" && job.Function != d.Function:
		return job, &InputError{"function", quote(job.Function), fmt.Sprintf("this replay delivers only to the function %s; leave function out", d.Function)}
	case d.Stream != "" && job.Function != "":
		return job, &InputError{"function", quote(job.Function), fmt.Sprintf("this replay delivers only to the stream %s; leave function out", d.Stream)}
	case d.Stream != "" && job.Stream != "" && job.Stream != d.Stream:
		return job, &InputError{"stream", quote(job.Stream), fmt.Sprintf("this replay delivers only to the stream %s; leave stream out", d.Stream)}
	}
	job.Function, job.Stream = d.Function, d.Stream
	if job.Prefix == "" {
		job.Prefix = d.Prefix
	}
	if job.SourceARN == "" {
		job.SourceARN = d.SourceARN
	}
	job.Region = d.Region
	return job, nil
}

// RunLeg replays as much of job as fits before the context's deadline less reserve, and returns the job to run next
// (Done when finished). Failed events are counted and named, and the checkpoint moves past them, so that every leg
// makes progress. The deployed replay confines the job first ([Deployment.Confine]); RunLeg does not.
func RunLeg(ctx context.Context, lakeAPI S3API, target Target, job Job, reserve time.Duration) (Job, error) {
	legCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		legCtx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
	}
	opts := job.Options
	opts.AdvancePastFailures = true
	cp := &MemoryCheckpoint{After: job.Checkpoint}
	sum, err := Run(legCtx, lakeAPI, target, opts, cp, nil)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return job, ie // as is, so that the deployed replay's error name stays InputError
		}
		return job, fmt.Errorf("leg %d: %w", job.Legs+1, err)
	}
	job.Legs++
	job.Checkpoint = cp.After
	job.Done = sum.Done
	t := &job.Totals
	t.Objects += sum.Objects
	t.Read += sum.Read
	t.Filtered += sum.Filtered
	t.Delivered += sum.Delivered
	t.WouldDeliver += sum.WouldDeliver
	t.Failed += sum.Failed
	t.Oversized += sum.Oversized
	t.Malformed += sum.Malformed
	t.Batches += sum.Batches
	t.Invocations += sum.Invocations
	t.Bytes += sum.Bytes
	t.DryRun = sum.DryRun
	t.Done = sum.Done
	t.Checkpoint = cp.After
	for _, p := range sum.Problems {
		if len(t.Problems) < maxProblems {
			t.Problems = append(t.Problems, p)
		}
	}
	return job, nil
}
