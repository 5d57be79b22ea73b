package observer_test

import (
	"testing"
	"time"

	"github.com/eventlake/eventlake/observer"
)

func TestDelay(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		strategy observer.Strategy
		d        time.Duration
		repeated int
		want     time.Duration
	}{
		{observer.Constant, 30 * s, 0, 30 * s},
		{observer.Constant, 30 * s, 7, 30 * s},
		{observer.Reciprocal, 30 * s, 0, 30 * s},
		{observer.Reciprocal, 30 * s, 1, 30 * s},
		{observer.Reciprocal, 30 * s, 2, 15 * s},
		{observer.Reciprocal, 30 * s, 4, 8 * s}, // 7.5 s, rounded up to whole seconds
		{observer.Exponential, 30 * s, 0, 30 * s},
		{observer.Exponential, 30 * s, 1, 12 * s}, // ceil(30 * e^-1) = ceil(11.04)
		{observer.Exponential, 30 * s, 3, 2 * s},  // ceil(1.49)
		{observer.Exponential, 30 * s, 10, 1 * s}, // ceil(0.0014)
		{observer.Constant, 20 * time.Minute, 0, 900 * s},
		{observer.Reciprocal, 2000 * s, 1, 900 * s},
		{observer.Constant, 0, 0, 0},
	} {
		if got := observer.Delay(c.strategy, c.d, c.repeated); got != c.want {
			t.Errorf("Delay(%s, %v, %d) = %v, want %v", c.strategy, c.d, c.repeated, got, c.want)
		}
	}
	if _, err := observer.ParseStrategy("linear"); err == nil {
		t.Error("unknown strategy accepted")
	}
}
