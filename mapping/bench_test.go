package mapping_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

// BenchmarkSettle16 creates 16 subscriptions on one stream at once and waits for all of them to settle: with every
// first attempt (and every other second attempt) failing with the Kinesis rate limit as Lambda reports it, against the
// same without faults. It reports Lambda API attempts per run and faults injected per run.
func BenchmarkSettle16(b *testing.B) {
	for _, inject := range []bool{false, true} {
		name := "clean"
		if inject {
			name = "throttled"
		}
		b.Run(name, func(b *testing.B) {
			var calls, injected int64
			for i := range b.N {
				b.StopTimer()
				var injectors []*fault.Injector
				if inject {
					injectors = append(injectors, kinesisLimitOnFirstAttempts())
				}
				e := newEnv(b, injectors...)
				var fns []string
				for j := range 16 {
					fns = append(fns, moto.NewFunction(b, e.cfg, fmt.Sprintf("bench-%s-%d-%d-%d", name, i, j, time.Now().UnixNano())))
				}
				before := e.calls.Calls()
				b.StartTimer()
				var wg sync.WaitGroup
				for _, fn := range fns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if a := e.send(b, cfn.RequestCreate, "", props(fn, e.stream), nil); a.Status != cfn.StatusSuccess {
							b.Errorf("answered %s: %s", a.Status, a.Reason)
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				calls += int64(e.calls.Calls() - before)
				for _, inj := range injectors {
					injected += int64(inj.Injected())
				}
			}
			b.ReportMetric(float64(calls)/float64(b.N), "api-attempts/op")
			b.ReportMetric(float64(injected)/float64(b.N), "faults/op")
		})
	}
}
