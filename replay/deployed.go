package replay

import (
	"context"
	"fmt"
	"time"
)

// Job is the input and the output of one leg of the deployed replay (lambdas/replay, driven by a Step Functions
// loop): the same options as the command line, the checkpoint to resume after, and the totals of the legs so far.
type Job struct {
	Options
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

// RunLeg replays as much of job as fits before the context's deadline less reserve, and returns the job to run next
// (Done when finished). Failed events are counted and named, and the checkpoint moves past them, so that every leg
// makes progress.
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
	t.Events = t.Delivered + t.WouldDeliver
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
