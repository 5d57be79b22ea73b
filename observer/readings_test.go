package observer_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/test/fault"
)

func TestReadingsAreSentWithTheDelayOfTheStrategy(t *testing.T) {
	for _, c := range []struct {
		strategy observer.Strategy
		want     string // the delay of the first reading, then of the readings after readings 1, 2 and 3
	}{
		{observer.Constant, "[30 30 30 30]"},
		{observer.Reciprocal, "[30 30 30 15]"}, // 30/1, then 30/2 after two unchanged readings
		{observer.Exponential, "[30 30 12 5]"}, // ceil(30·e^-r) for r = 0, 0, 1, 2
	} {
		t.Run(string(c.strategy), func(t *testing.T) {
			// GIVEN a base delay of 30 s
			e := newEnv(t, c.strategy, 3)
			q := &delays{QueueAPI: e.mon.Queue} // records each reading's delay, and sends it at once
			e.mon.Queue, e.obs.Queue = q, q
			e.mon.Delay, e.obs.Delay = 30*time.Second, 30*time.Second
			// WHEN a data set of one object is observed until it is ready
			e.mon.HandleS3(context.Background(), created("ObjectCreated:Put"))
			e.drain(t)
			// THEN each reading is sent with the strategy's delay for the unchanged readings seen so far
			var seconds []int
			for _, d := range q.asked {
				seconds = append(seconds, int(d/time.Second))
			}
			if got := fmt.Sprint(seconds); got != c.want {
				t.Errorf("readings sent with sentDelays %s s, want %s", got, c.want)
			}
			if ready := e.announced(t, e.readyQ); len(ready) != 1 || ready[0].Readings != 4 {
				t.Errorf("announcements %+v; want one after 4 readings", ready)
			}
		})
	}
}

func TestStartingAgainSendsTheFirstReadingOnlyWhileNoneWasTaken(t *testing.T) {
	// GIVEN an observation whose start could not send its first reading
	e := newEnv(t, observer.Constant, 3)
	ctx := context.Background()
	inj := &fault.Injector{Operation: "SendMessage", Times: 1, Fault: fault.JSONError(400, "AccessDenied", "not allowed")}
	e.mon.Queue = sqs.NewFromConfig(e.cfg, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, inj.Install) })
	const ds = "lake/events/2026/11/21/10/"
	if started, err := e.mon.Start(ctx, ds); !started || err == nil {
		t.Fatalf("start whose reading was not sent: %v, %v; want started, with the send's error", started, err)
	}
	if queued(t, e) != 0 {
		t.Fatal("a reading is queued although its send failed")
	}
	first := e.counter(t, ds)

	// WHEN it is started again: nothing new starts, and the first reading of that observation is sent
	if started, err := e.mon.Start(ctx, ds); started || err != nil {
		t.Fatalf("second start: %v, %v; want not started, no error", started, err)
	}
	r := e.take(t)
	if r.ObservationID != first.ObservationID || r.Step != 1 || r.LastCount != -1 || r.DataSet != ds {
		t.Fatalf("reading %+v; want the first reading of observation %s", r, first.ObservationID)
	}
	if err := e.obs.Read(ctx, r); err != nil {
		t.Fatal(err)
	}

	// WHEN it is started once more after its first reading was taken: nothing is sent but the observation's own next
	if started, err := e.mon.Start(ctx, ds); started || err != nil {
		t.Fatalf("third start: %v, %v", started, err)
	}
	if n := queued(t, e); n != 1 {
		t.Errorf("%d readings queued; want the observation's next one only", n)
	}
	if c := e.counter(t, ds); c.ObservationID != first.ObservationID || c.Step != 1 {
		t.Errorf("counter %+v; want observation %s at step 1", c, first.ObservationID)
	}
}

// queued counts the readings queued.
func queued(t *testing.T, e *env) int {
	t.Helper()
	attrs, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &e.readings,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)], &n)
	return n
}
