package observer

import (
	"math"
	"time"

	"github.com/eventlake/eventlake/contract"
)

// Strategy says how long the observer waits before its next reading (package contract's type, which the
// construct sets).
type Strategy = contract.Strategy

// The delay strategies of the seed article, over a base delay d and the number of unchanged readings in a row.
const (
	// Constant waits d every time.
	Constant = contract.Constant
	// Reciprocal waits d/repeated: the longer nothing changes, the faster it confirms (d after a change).
	Reciprocal = contract.Reciprocal
	// Exponential waits ceil(d·e^-repeated) seconds.
	Exponential = contract.Exponential
)

// MaxDelay is the longest delay SQS allows on a message.
const MaxDelay = contract.MaxDelaySeconds * time.Second

// ParseStrategy checks a strategy's name.
func ParseStrategy(s string) (Strategy, error) { return contract.ParseStrategy(s) }

// Delay is the wait before the next reading, clamped to SQS's 0 to 900 seconds and rounded up to whole seconds.
func Delay(s Strategy, d time.Duration, repeated int) time.Duration {
	var next time.Duration
	switch s {
	case Reciprocal:
		if repeated < 1 {
			next = d
		} else {
			next = d / time.Duration(repeated)
		}
	case Exponential:
		next = time.Duration(math.Ceil(d.Seconds()*math.Exp(-float64(repeated)))) * time.Second
	default:
		next = d
	}
	next = ((next + time.Second - 1) / time.Second) * time.Second
	return min(max(next, 0), MaxDelay)
}
