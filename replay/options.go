package replay

import (
	"fmt"
	"path"
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

// withDefaults fills unset options and checks the rest, naming the option, its value and the limit.
func (o Options) withDefaults() (Options, error) {
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		return o, fmt.Errorf("batch size %d: must be from 1 to %d", o.BatchSize, MaxBatchSize)
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Concurrency < 1 || o.Concurrency > MaxConcurrency {
		return o, fmt.Errorf("concurrency %d: must be from 1 to %d", o.Concurrency, MaxConcurrency)
	}
	if o.Rate < 0 {
		return o, fmt.Errorf("rate %v: must not be negative", o.Rate)
	}
	if o.AsyncLimit == 0 {
		o.AsyncLimit = DefaultAsyncLimit
	}
	if o.AsyncLimit < 1024 || o.AsyncLimit > SyncLimit {
		return o, fmt.Errorf("async limit %d bytes: must be from 1024 to %d", o.AsyncLimit, SyncLimit)
	}
	if !o.From.IsZero() && !o.To.IsZero() && o.To.Before(o.From) {
		return o, fmt.Errorf("to %s is before from %s", o.To.Format(time.RFC3339), o.From.Format(time.RFC3339))
	}
	if _, err := path.Match(o.Type, ""); err != nil {
		return o, fmt.Errorf("type %q: not a valid glob: %w", o.Type, err)
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

// Summary is what a run did. In a dry run, the counts are what would have been sent.
type Summary struct {
	// Objects is the number of lake objects read.
	Objects int64 `json:"objects"`
	// Events is the number of events delivered.
	Events int64 `json:"events"`
	// Batches is the number of batches made.
	Batches int64 `json:"batches"`
	// Invocations is the number of calls made to the target (Invoke or PutRecords).
	Invocations int64 `json:"invocations"`
	// Bytes is the payload delivered.
	Bytes int64 `json:"bytes"`
	// Malformed is the number of lake lines that were not events.
	Malformed int64 `json:"malformed"`
	// Filtered is the number of events left out by the type or time filter.
	Filtered int64 `json:"filtered"`
	// Failed is the number of events whose delivery failed.
	Failed int64 `json:"failed"`
	// Oversized is the number of events too large for any call to the target.
	Oversized int64 `json:"oversized"`
	// DryRun is true when nothing was sent.
	DryRun bool `json:"dryRun"`
	// Done is false when the run stopped before the end (cancelled); resume it from Checkpoint.
	Done bool `json:"done"`
	// Checkpoint is the last object all of whose events were delivered.
	Checkpoint string `json:"checkpoint,omitempty"`
	// ResumedAfter is the checkpoint the run started after.
	ResumedAfter string `json:"resumedAfter,omitempty"`
	// Problems names the first malformed lines, oversized events and failed batches, with object key and line.
	Problems []string `json:"problems,omitempty"`
}

const maxProblems = 100
