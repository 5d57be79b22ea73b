// Command replay replays events from the eventlake data lake into one Lambda function, or into a replay stream, to
// repair a service or seed a new one. It never writes to the shared event stream.
//
//	go run ./cmd/replay --bucket my-lake --prefix events/2026/11/ --function orders-projector
//	go install github.com/eventlake/eventlake/cmd/replay@latest
//
// Progress goes to stderr: a progress bar on a terminal, a plain line every 10 seconds otherwise. The last line on
// stdout is a JSON summary. Exit status: 0 when everything was delivered, 1 when any event was not (failed,
// oversized) or the run was interrupted (resume it with the same --checkpoint), 2 on wrong usage.
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
