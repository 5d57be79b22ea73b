package lake

import (
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ArrivalTime is a Kinesis record's approximateArrivalTimestamp as the stream recorded it: a whole number of
// milliseconds.
//
// Lambda's Kinesis event gives the timestamp in seconds as a JSON number with a fraction (1700000000.123), which
// events.SecondsEpochTime parses through a float64 to the nearest representable value, a few hundred nanoseconds off
// at most, either side (1700000000.123 parses to 1700000000.122999906). Truncating that to milliseconds, as
// Time.UnixMilli does, puts about half of all records 1 ms early; ArrivalTime rounds to the nearest millisecond
// instead, which recovers the stream's value exactly. Use it, or [ArrivalMillis], wherever such a timestamp is
// converted. The zero time stays zero.
func ArrivalTime(t events.SecondsEpochTime) time.Time {
	// Round rounds to a multiple of 1 ms since the zero time, a whole number of seconds before the Unix epoch: the
	// multiples are those of the Unix epoch too.
	return t.Time.Round(time.Millisecond)
}

// ArrivalMillis is [ArrivalTime] in epoch milliseconds.
func ArrivalMillis(t events.SecondsEpochTime) int64 {
	return ArrivalTime(t).UnixMilli()
}
