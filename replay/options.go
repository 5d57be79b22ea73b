package replay

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// Limits and defaults.
const (
	DefaultBatchSize   = 100
	MaxBatchSize       = 10000
	DefaultConcurrency = 4
	MaxConcurrency     = 64
	// DefaultAsyncLimit is Lambda's payload limit for asynchronous (Event) invocations.
	DefaultAsyncLimit = 1 << 20
	// SyncLimit is Lambda's payload limit for synchronous (RequestResponse) invocations.
	SyncLimit = 6 << 20
)

// Options say what to replay and how fast.
type Options struct {
	// Bucket is the lake bucket. Required to read the lake.
	Bucket string `json:"bucket"`
	// Prefix limits the replay to keys under it: the lake prefix, a month, a day or an hour ("events/2026/11/").
	Prefix string `json:"prefix,omitempty"`
	// From limits the replay to events that arrived at or after it. Zero is open.
	From time.Time `json:"from,omitzero"`
	// To limits the replay to events that arrived at or before it. Zero is open.
	To time.Time `json:"to,omitzero"`
	// Type keeps only events of this type: exact, or a glob such as "thing-*".
	Type string `json:"type,omitempty"`
	// BatchSize is the most records per invocation. Default 100.
	BatchSize int `json:"batchSize,omitempty"`
	// Concurrency is the number of lanes, each with one invocation in flight. Default 4.
	Concurrency int `json:"concurrency,omitempty"`
	// Rate limits invocations per second over all lanes. Zero is unlimited.
	Rate float64 `json:"rate,omitempty"`
	// AsyncLimit is the payload limit for Event invocations, in bytes. Default 1 MiB.
	AsyncLimit int `json:"asyncLimit,omitempty"`
	// Sync sends every batch as RequestResponse, packed up to 6 MB.
	Sync bool `json:"sync,omitempty"`
	// DryRun counts what would be replayed and checks the permission to deliver, sending nothing.
	DryRun bool `json:"dryRun,omitempty"`
	// SourceARN is the original stream's ARN, set as each record's eventSourceARN.
	SourceARN string `json:"sourceArn,omitempty"`
	// Region is set as each record's awsRegion.
	Region string `json:"region,omitempty"`
	// AdvancePastFailures lets the checkpoint move past objects with failed events (counted and named in the
	// summary's problems). Without it, the checkpoint stops at the first such object, so a resumed run retries it
	// (and delivers what follows again). The deployed replay sets it, so each of its legs makes progress.
	AdvancePastFailures bool `json:"advancePastFailures,omitempty"`
}

// InputError is a replay input that is refused before anything is read or sent: [Options] that are out of range,
// or a deployed replay's job that [Deployment.Confine] or [DecodeJob] does not accept. It names the field as in the
// JSON input, the value given and what is accepted. The deployed replay returns it as is, so that its Step Functions
// execution fails at once with the error name "InputError" (see constructs/replay).
type InputError struct {
	// Field is the field at fault, as named in the JSON input ("prefix", "batchSize", …).
	Field string
	// Value is the value given, as in JSON ("\"events/\"", "0"); empty when the field was left out.
	Value string
	// Want says what is wrong and what is accepted.
	Want string
}

// Error names the field, the value and what is accepted: `batchSize 0: must be from 1 to 10000`.
func (e *InputError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Want)
	}
	return fmt.Sprintf("%s %s: %s", e.Field, e.Value, e.Want)
}

func quote(s string) string { return strconv.Quote(s) }

// withDefaults fills unset options and checks the rest; a refused option is an *InputError naming it, its value and
// the limit.
func (o Options) withDefaults() (Options, error) {
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return o, &InputError{"batchSize", strconv.Itoa(o.BatchSize), fmt.Sprintf("must be from 1 to %d", MaxBatchSize)}
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return o, &InputError{"concurrency", strconv.Itoa(o.Concurrency), fmt.Sprintf("must be from 1 to %d", MaxConcurrency)}
	}
	if o.Rate < 0 {
		return o, &InputError{"rate", strconv.FormatFloat(o.Rate, 'g', -1, 64), "must not be negative (0 is no limit)"}
	}
	if o.AsyncLimit == 0 {
		o.AsyncLimit = DefaultAsyncLimit
	}
	if o.AsyncLimit < 1024 || o.AsyncLimit > SyncLimit {
		return o, &InputError{"asyncLimit", strconv.Itoa(o.AsyncLimit), fmt.Sprintf("must be from 1024 to %d bytes", SyncLimit)}
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return o, &InputError{"to", quote(o.To.Format(time.RFC3339Nano)),
			fmt.Sprintf("before \"from\" %s; must be at or after it", quote(o.From.Format(time.RFC3339Nano)))}
	}
	if _, err := path.Match(o.Type, ""); err != nil {
		return o, &InputError{"type", quote(o.Type), fmt.Sprintf("not a valid glob (%v); give an exact type or a glob such as \"order-*\"", err)}
	}
	return o, nil
}

// keepType reports whether an event of type t passes the type filter.
func (o Options) keepType(t string) bool {
	if o.Type == "" {
		return true
	}
	if !strings.ContainsAny(o.Type, "*?[\\") {
		return t == o.Type
	}
	ok, _ := path.Match(o.Type, t)
	return ok
}

// keepTime reports whether an event that arrived at t is in [From, To].
func (o Options) keepTime(t time.Time) bool {
	if !o.From.IsZero() && t.Before(o.From) {
		return false
	}
	if !o.To.IsZero() && t.After(o.To) {
		return false
	}
	return true
}

// Summary is what a run did. The command line prints it, as JSON, as the last line on stdout; the deployed replay
// returns the running totals of its legs in the same shape ([Job].Totals). Every count is present, 0 when nothing;
// checkpoint, resumedAfter and problems are left out when empty.
//
// The events read add up: read = filtered + oversized + delivered + failed in a run that sends, and read = filtered
// + oversized + wouldDeliver in a dry run. Lines that are not events are counted in malformed, not in read.
type Summary struct {
	// Objects counts the units read: lake objects, or event store hour shards (a unit is counted when its reading
	// starts, so one that a stopped run did not finish is counted too).
	Objects int64 `json:"objects"`
	// Read counts the events read from the source, whatever became of them.
	Read int64 `json:"read"`
	// Filtered counts the events read that the type or time filter left out.
	Filtered int64 `json:"filtered"`
	// Delivered counts the events the target accepted: a successful Invoke (for RequestResponse, one without a
	// function error), or PutRecords having stored them. Always 0 in a dry run.
	Delivered int64 `json:"delivered"`
	// WouldDeliver counts, in a dry run, the events that would have been sent. Always 0 in a run that sends.
	WouldDeliver int64 `json:"wouldDeliver"`
	// Failed counts the events whose delivery failed; Problems names the first failed batches. Always 0 in a dry run.
	Failed int64 `json:"failed"`
	// Oversized counts the events too large for any one call to the target (over 6 MB for a function, over the
	// record limit for a stream): reported in Problems, never sent.
	Oversized int64 `json:"oversized"`
	// Malformed counts the source lines that were not events; Problems names the first, with object key and line.
	Malformed int64 `json:"malformed"`
	// Batches counts the batches made: one Invoke each for a function, one PutRecords batch (which retries may split
	// into several calls) for a stream; sent, or in a dry run, that would have been sent.
	Batches int64 `json:"batches"`
	// Invocations counts the calls made to the target to deliver: Invoke, or PutRecords with the calls that retry
	// failed records. The check of the target before reading is not counted. Always 0 in a dry run.
	Invocations int64 `json:"invocations"`
	// Bytes is the payload size of the batches made, as the target counts it (the events.KinesisEvent JSON for a
	// function; data and partition keys for a stream): delivered, failed, or in a dry run, not sent.
	Bytes int64 `json:"bytes"`
	// DryRun is true when nothing was sent (Options.DryRun).
	DryRun bool `json:"dryRun"`
	// Done is true when the run reached the end of what it was to replay. It is false when the run stopped early:
	// interrupted, at a deployed leg's deadline (resume from Checkpoint), or on an error (such as a target that
	// cannot be delivered to, found before reading).
	Done bool `json:"done"`
	// Checkpoint is the last unit, in key order, whose events were all dealt with (delivered, or reported as
	// oversized; failed too with Options.AdvancePastFailures); a run resumed with it starts after it.
	Checkpoint string `json:"checkpoint,omitempty"`
	// ResumedAfter is the checkpoint the run started after; left out when it started at the beginning.
	ResumedAfter string `json:"resumedAfter,omitempty"`
	// Problems names, with object key and line, the first 100 malformed lines, oversized events and failed batches.
	Problems []string `json:"problems,omitempty"`
}

const maxProblems = 100
