package subscriber_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/eventlake/eventlake/subscriber"
)

func TestDefaultReserveIsTwoSeconds(t *testing.T) {
	for _, tc := range []struct {
		left    time.Duration
		handled int
		failed  []events.KinesisBatchItemFailure
	}{
		// Less than the reserve left: nothing is started, Lambda retries the batch from its first record.
		{1500 * time.Millisecond, 0, []events.KinesisBatchItemFailure{{ItemIdentifier: "1"}}},
		// More: the batch is handled.
		{2500 * time.Millisecond, 2, []events.KinesisBatchItemFailure{}},
	} {
		// GIVEN a handler with the default reserve and a function with tc.left to its deadline
		var handled int
		h := subscriber.Handler(func(context.Context, subscriber.Event) error { handled++; return nil },
			subscriber.Options{Logger: quiet.Logger})
		ctx, cancel := context.WithTimeout(context.Background(), tc.left)

		// WHEN a batch of two records comes
		resp, err := h(ctx, events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", `{}`), record("2", `{}`)}})
		cancel()

		// THEN the handler stops 2 s before the deadline
		if err != nil || handled != tc.handled || len(resp.BatchItemFailures) != len(tc.failed) ||
			(len(tc.failed) == 1 && resp.BatchItemFailures[0] != tc.failed[0]) {
			t.Errorf("%v left: handled %d, failures %+v, error %v; want %d handled, failures %+v",
				tc.left, handled, resp.BatchItemFailures, err, tc.handled, tc.failed)
		}
	}
}
