package observer_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/eventlake/eventlake/observer"
)

// delays records the delay the observer asks of each reading, then sends it at once, so the benchmark runs in
// moments while the strategy's real delays are measured.
type delays struct {
	observer.QueueAPI
	mu    sync.Mutex
	asked []time.Duration
}

func (d *delays) SendMessage(ctx context.Context, in *sqs.SendMessageInput, o ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	d.mu.Lock()
	d.asked = append(d.asked, time.Duration(in.DelaySeconds)*time.Second)
	d.mu.Unlock()
	in.DelaySeconds = 0
	return d.QueueAPI.SendMessage(ctx, in, o...)
}

// BenchmarkObservation observes a data set that grows for 10 readings, then stays quiet, for each strategy (d = 30 s,
// N = 3). It reports DynamoDB and SQS calls per observation, readings, and the detection delay: the time the readings
// waited after the last change was seen, against the configured window N·d.
func BenchmarkObservation(b *testing.B) {
	const d, n = 30 * time.Second, 3
	for _, s := range []observer.Strategy{observer.Constant, observer.Reciprocal, observer.Exponential} {
		b.Run(string(s), func(b *testing.B) {
			var dbCalls, sqsCalls, readings int64
			var detection time.Duration
			for range b.N {
				e := newEnv(b, s, n)
				q := &delays{QueueAPI: e.mon.Queue}
				e.mon.Queue, e.obs.Queue = q, q
				e.mon.Delay, e.obs.Delay = d, d
				ctx := context.Background()
				e.mon.HandleS3(ctx, created("ObjectCreated:Put"))
				dbBefore, sqsBefore := e.dbCalls.Load(), e.sqsSent.Load()
				lastChange := 0
				for i := 1; ; i++ {
					if i <= 10 {
						e.mon.HandleS3(ctx, created("ObjectCreated:Put")) // growth between readings
						lastChange = len(q.asked)
					}
					if e.step(b) == 0 {
						readings = int64(i - 1)
						break
					}
				}
				dbCalls += e.dbCalls.Load() - dbBefore
				sqsCalls += e.sqsSent.Load() - sqsBefore
				detection = 0
				for _, a := range q.asked[lastChange:] {
					detection += a
				}
				if got := e.announced(b, e.readyQ); len(got) != 1 || got[0].Objects != 11 {
					b.Fatalf("announcements %+v, want one DataSetReady of 11 objects", got)
				}
			}
			b.ReportMetric(float64(dbCalls)/float64(b.N), "dynamodb-calls/obs")
			b.ReportMetric(float64(sqsCalls)/float64(b.N), "sqs-sends/obs")
			b.ReportMetric(float64(readings), "readings")
			b.ReportMetric(detection.Seconds(), "detect-s")
			b.ReportMetric(detection.Seconds()/(n*d).Seconds(), "x-window")
		})
	}
}
