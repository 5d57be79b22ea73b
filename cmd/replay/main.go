// Command replay replays events from the eventlake data lake into one Lambda function, or into a replay stream, to
// repair a service or seed a new one. It never writes to the shared event stream.
//
//	go run ./cmd/replay --bucket my-lake --prefix events/2026/11/ --function orders-projector
//	go install github.com/eventlake/eventlake/cmd/replay@latest
//
// It checks the target before it reads anything (an Invoke of type DryRun for a function, DescribeStreamSummary for
// a stream): a function or stream that does not exist, or that may not be delivered to, ends the run at once with
// status 1, naming it, with nothing read or sent.
//
// Progress goes to stderr: a progress bar on a terminal, a plain line every 10 seconds otherwise. The last line on
// stdout is a JSON summary (replay.Summary), whose fields are:
//
//	objects       lake objects (or event store hour shards) read
//	read          events read: read = filtered + oversized + delivered + failed,
//	              or with --dry-run, read = filtered + oversized + wouldDeliver
//	filtered      events read that --type, --from or --to left out
//	delivered     events the target accepted (0 with --dry-run)
//	wouldDeliver  with --dry-run, events that would have been sent (0 otherwise)
//	failed        events whose delivery failed, batch by batch on stderr (0 with --dry-run)
//	oversized     events too large for any one call: named on stderr, never sent
//	malformed     lake lines that are not events, named on stderr (not counted in read)
//	batches       batches made: one Invoke each (one PutRecords batch for a stream);
//	              with --dry-run, the batches that would have been sent
//	invocations   calls made to deliver: Invoke, or PutRecords with its retries
//	              (0 with --dry-run; the check of the target is not counted)
//	bytes         payload size of the batches made, delivered, failed or not sent
//	dryRun        true with --dry-run: nothing was sent
//	done          true when the run reached the end; false when it was interrupted or stopped by an error
//	checkpoint    the last object all of whose events were dealt with (left out when none)
//	resumedAfter  the --checkpoint position the run started after (left out when none)
//	problems      the first 100 malformed lines, oversized events and failed batches (left out when none)
//
// Exit status: 0 when every event the filters kept was delivered (with --dry-run: could be); 1 when any event was not (failed,
// oversized), when the run was interrupted (resume it with the same --checkpoint), or when the target does not exist
// or may not be delivered to (found before reading); 2 on wrong usage (flags), before any AWS call.
//
// It uses the standard AWS SDK environment: AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL and the per-service endpoint
// variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL_KINESIS).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
