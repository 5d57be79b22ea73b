package contract

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The environment both observer functions share (lambdas/monitor and lambdas/observer), set by constructs/observer.
const (
	// CountersTable is the counter table's name.
	CountersTable = "TABLE"
	// CountersQueueURL is the URL of the queue of readings.
	CountersQueueURL = "QUEUE_URL"
	// CountersStrategy is the delay strategy: [Constant], [Reciprocal] or [Exponential].
	CountersStrategy = "STRATEGY"
	// CountersDelaySeconds is the base delay between readings, from 0 to [MaxDelaySeconds].
	CountersDelaySeconds = "DELAY_SECONDS"
)

// The monitor's own environment (lambdas/monitor), besides [Counters]'.
const (
	// MonitorWatches are the watched data sets, a JSON list of [Watch] ({"bucket", "prefix", "depth"}).
	MonitorWatches = "WATCHES"
	// MonitorMarkerTTLSeconds is how long the monitor remembers a counted object, in seconds (at least 1). Optional.
	MonitorMarkerTTLSeconds = "MARKER_TTL_SECONDS"
)

// The observer function's own environment (lambdas/observer), besides [Counters]'.
const (
	// ObserverUnchanged is N, the readings in a row without a change that make a data set complete, from
	// [MinUnchanged] to [MaxUnchanged].
	ObserverUnchanged = "UNCHANGED"
	// ObserverMaxWaitSeconds is how long an observation runs before it gives up, from [MinMaxWaitSeconds] to
	// [MaxMaxWaitSeconds].
	ObserverMaxWaitSeconds = "MAX_WAIT_SECONDS"
	// ObserverEventBus is the name or ARN of the bus that receives DataSetReady and DataSetTimedOut events.
	ObserverEventBus = "EVENT_BUS"
	// ObserverTopicARN is the topic that receives a message per completion and give-up.
	ObserverTopicARN = "TOPIC_ARN"
)

// Limits of the observer.
const (
	// MaxDelaySeconds is the longest base delay: the longest delay SQS allows on a message.
	MaxDelaySeconds = 900
	// MinUnchanged is the fewest unchanged readings that make a data set complete.
	MinUnchanged = 1
	// MaxUnchanged is the most unchanged readings that make a data set complete.
	MaxUnchanged = 100
	// MinMaxWaitSeconds is the shortest MaxWait: a minute.
	MinMaxWaitSeconds = 60
	// MaxMaxWaitSeconds is the longest MaxWait: 14 days, as long as SQS keeps a message.
	MaxMaxWaitSeconds = 14 * 86400
	// MaxWatchDepth is the deepest a watch's data sets may lie below its prefix, in path segments.
	MaxWatchDepth = 20
)

// The observer counter table's schema, which constructs/observer creates and package observer reads and writes.
const (
	// ObserverAttrDataSet is the counter table's partition key.
	ObserverAttrDataSet = "dataSet"
	// ObserverAttrExpiresAt is the counter table's time-to-live attribute (epoch seconds).
	ObserverAttrExpiresAt = "expiresAt"
)

// The observer's EventBridge events.
const (
	// ObserverEventSource is the source of the observer's EventBridge events.
	ObserverEventSource = "eventlake.observer"
	// DataSetReady is the detail type of a data set's completion.
	DataSetReady = "DataSetReady"
	// DataSetTimedOut is the detail type of an observation that gave up.
	DataSetTimedOut = "DataSetTimedOut"
)

// Strategy says how long the observer waits before its next reading.
type Strategy string

// The delay strategies of the seed article, over a base delay d and the number of unchanged readings in a row.
const (
	// Constant waits d every time.
	Constant Strategy = "constant"
	// Reciprocal waits d/repeated: the longer nothing changes, the faster it confirms (d after a change).
	Reciprocal Strategy = "reciprocal"
	// Exponential waits ceil(d·e^-repeated) seconds.
	Exponential Strategy = "exponential"
)

// ParseStrategy checks a strategy's name.
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(s) {
	case Constant, Reciprocal, Exponential:
		return Strategy(s), nil
	}
	return "", fmt.Errorf("delay strategy %q: must be %q, %q or %q", s, Constant, Reciprocal, Exponential)
}

// Watch names the data sets of a bucket: every object under Prefix belongs to the data set of its directory (the key
// up to its last "/"), or, with Depth, of its first Depth path segments after Prefix.
type Watch struct {
	// Bucket is the watched bucket.
	Bucket string `json:"bucket"`
	// Prefix limits the watch to keys under it.
	Prefix string `json:"prefix"`
	// Depth, when set, makes a data set of the first Depth path segments after Prefix.
	Depth int `json:"depth,omitempty"`
}

// DataSetOf returns the data set of an object under watches, "" when no watch covers it: the monitor counts the
// object into it, and the construct checks a watch's expected data sets against it.
func DataSetOf(watches []Watch, bucket, key string) string {
	for _, w := range watches {
		if w.Bucket != bucket || !strings.HasPrefix(key, w.Prefix) {
			continue
		}
		rest := key[len(w.Prefix):]
		if w.Depth > 0 {
			parts := strings.SplitN(rest, "/", w.Depth+1)
			if len(parts) <= w.Depth {
				return "" // not deep enough to belong to a data set
			}
			return bucket + "/" + w.Prefix + strings.Join(parts[:w.Depth], "/") + "/"
		}
		if i := strings.LastIndex(key, "/"); i >= 0 {
			return bucket + "/" + key[:i+1]
		}
		return bucket + "/"
	}
	return ""
}

// ExpectedDataSet names the data set a watch's schedule expects at t: bucket, "/", prefix, then t in layout (UTC).
func ExpectedDataSet(bucket, prefix, layout string, t time.Time) string {
	return bucket + "/" + prefix + t.UTC().Format(layout)
}

// Counters is the configuration both observer functions share: the counter table, the readings queue and the delay
// between readings.
type Counters struct {
	// Table is the counter table's name. Required.
	Table string
	// QueueURL is the readings queue's URL. Required.
	QueueURL string
	// Strategy is the delay strategy. Required.
	Strategy Strategy
	// Delay is the base delay d, in whole seconds from 0 to [MaxDelaySeconds].
	Delay time.Duration
}

// Env returns the variables that configure the shared settings with c.
func (c Counters) Env() map[string]string {
	return map[string]string{
		CountersTable:        c.Table,
		CountersQueueURL:     c.QueueURL,
		CountersStrategy:     string(c.Strategy),
		CountersDelaySeconds: strconv.FormatInt(int64(c.Delay/time.Second), 10),
	}
}

func (r *reader) counters() Counters {
	c := Counters{Table: r.str(CountersTable, true), QueueURL: r.str(CountersQueueURL, true)}
	s, ok := r.lookup(CountersStrategy)
	st, err := ParseStrategy(s)
	if err != nil {
		r.fail(CountersStrategy, s, ok, fmt.Sprintf("must be %q, %q or %q", Constant, Reciprocal, Exponential))
	}
	c.Strategy = st
	c.Delay = time.Duration(r.whole(CountersDelaySeconds, 0, MaxDelaySeconds, true, 0)) * time.Second
	return c
}

// Monitor is the observer's monitor's configuration.
type Monitor struct {
	Counters
	// Watches are the watched data sets. At least one.
	Watches []Watch
	// MarkerTTL is how long a counted object is remembered, in whole seconds. Zero leaves it unset: the monitor's
	// default.
	MarkerTTL time.Duration
}

// Env returns the variables that configure the monitor with c. A construct whose watches name their buckets by token
// substitutes them in the [MonitorWatches] JSON (with Fn::Sub, say).
func (c Monitor) Env() map[string]string {
	env := c.Counters.Env()
	watches, _ := json.Marshal(c.Watches) // a list of plain structs: cannot fail
	env[MonitorWatches] = string(watches)
	put(env, MonitorMarkerTTLSeconds, secondsOrEmpty(c.MarkerTTL), true)
	return env
}

// LoadMonitor reads and checks the monitor's variables.
func LoadMonitor(lookup Lookup) (Monitor, error) {
	r := &reader{lookup: lookup}
	c := Monitor{Counters: r.counters()}
	v, ok := lookup(MonitorWatches)
	if err := json.Unmarshal([]byte(v), &c.Watches); err != nil || len(c.Watches) == 0 {
		r.fail(MonitorWatches, v, ok, `must be a JSON list of at least one {"bucket", "prefix", "depth"}`)
	}
	for i, w := range c.Watches {
		if w.Bucket == "" || w.Depth < 0 || w.Depth > MaxWatchDepth {
			r.fail(MonitorWatches, v, true, fmt.Sprintf("watch %d must name a bucket and have a depth from 0 to %d", i, MaxWatchDepth))
			break
		}
	}
	c.MarkerTTL = time.Duration(r.whole(MonitorMarkerTTLSeconds, 1, maxInt, false, 0)) * time.Second
	return c, r.err()
}

// Observer is the observer function's configuration.
type Observer struct {
	Counters
	// Unchanged is N, the readings in a row without a change that make a data set complete ([MinUnchanged] to
	// [MaxUnchanged]).
	Unchanged int
	// MaxWait is how long an observation runs before it gives up, in whole seconds ([MinMaxWaitSeconds] to
	// [MaxMaxWaitSeconds]).
	MaxWait time.Duration
	// EventBus is the name or ARN of the bus for DataSetReady and DataSetTimedOut events. Required.
	EventBus string
	// TopicARN is the topic for a message per completion and give-up. Required.
	TopicARN string
}

// Env returns the variables that configure the observer function with c.
func (c Observer) Env() map[string]string {
	env := c.Counters.Env()
	env[ObserverUnchanged] = strconv.Itoa(c.Unchanged)
	env[ObserverMaxWaitSeconds] = secondsOrEmpty(c.MaxWait)
	env[ObserverEventBus] = c.EventBus
	env[ObserverTopicARN] = c.TopicARN
	return env
}

// LoadObserver reads and checks the observer function's variables.
func LoadObserver(lookup Lookup) (Observer, error) {
	r := &reader{lookup: lookup}
	c := Observer{
		Counters:  r.counters(),
		Unchanged: r.whole(ObserverUnchanged, MinUnchanged, MaxUnchanged, true, 0),
		MaxWait:   time.Duration(r.whole(ObserverMaxWaitSeconds, MinMaxWaitSeconds, MaxMaxWaitSeconds, true, 0)) * time.Second,
		EventBus:  r.str(ObserverEventBus, true),
		TopicARN:  r.str(ObserverTopicARN, true),
	}
	return c, r.err()
}

const maxInt = int(^uint(0) >> 1)

// secondsOrEmpty formats d in whole seconds, "" for zero.
func secondsOrEmpty(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Second), 10)
}
