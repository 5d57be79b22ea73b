package contract

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// from serves env as a Lookup.
func from(env map[string]string) Lookup {
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }
}

// Every configuration survives Env and its loader unchanged.
func TestRoundTrip(t *testing.T) {
	counters := Counters{Table: "t", QueueURL: "https://sqs/q", Strategy: Exponential, Delay: 60 * time.Second}
	cases := []struct {
		in   interface{ Env() map[string]string }
		load func(Lookup) (any, error)
	}{
		{EventStore{Table: "t", PayloadBucket: "b", Shards: 32}, func(l Lookup) (any, error) { return LoadEventStore(l) }},
		{MicroListener{Table: "t", Types: []string{"order-*", "paid"}, KeyField: "orderId", RetentionDays: 33}, func(l Lookup) (any, error) { return LoadMicroListener(l) }},
		{MicroTrigger{Table: "t"}, func(l Lookup) (any, error) { return LoadMicroTrigger(l) }},
		{Monitor{Counters: counters, Watches: []Watch{{Bucket: "b", Prefix: "events/", Depth: 4}}, MarkerTTL: 3600 * time.Second}, func(l Lookup) (any, error) { return LoadMonitor(l) }},
		{Monitor{Counters: counters, Watches: []Watch{{Bucket: "b"}}}, func(l Lookup) (any, error) { return LoadMonitor(l) }},
		{Observer{Counters: counters, Unchanged: 3, MaxWait: 86400 * time.Second, EventBus: "default", TopicARN: "arn:t"}, func(l Lookup) (any, error) { return LoadObserver(l) }},
		{PipelineStarter{StateMachineARN: "arn:sm"}, func(l Lookup) (any, error) { return LoadPipelineStarter(l) }},
		{DataPipeline{TemplateID: "df-1", ClonePrefix: DefaultClonePrefix}, func(l Lookup) (any, error) { return LoadDataPipeline(l) }},
		{DataPipeline{TemplateID: "df-1"}, func(l Lookup) (any, error) { return LoadDataPipeline(l) }},
		{Replay{LakeBucket: "lake", LakePrefix: "events/", TargetFunction: "arn:f", SourceStreamARN: "arn:s"}, func(l Lookup) (any, error) { return LoadReplay(l) }},
		{Replay{LakeBucket: "lake", TargetStream: "arn:s"}, func(l Lookup) (any, error) { return LoadReplay(l) }},
	}
	for _, c := range cases {
		got, err := c.load(from(c.in.Env()))
		if err != nil || !reflect.DeepEqual(got, c.in) {
			t.Errorf("%T: Env %v loads as %+v, %v; want %+v", c.in, c.in.Env(), got, err, c.in)
		}
	}
}

// A bad or missing variable is reported with its name, its value and the limit; every problem at once.
func TestErrors(t *testing.T) {
	_, err := LoadEventStore(from(map[string]string{EventStoreTable: "t", EventStoreShards: "257"}))
	for _, want := range []string{"PAYLOAD_BUCKET is not set", `SHARDS = "257"`, "from 1 to 256"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadEventStore: %v, want it to say %q", err, want)
		}
	}
	var ee *EnvError
	if !errors.As(err, &ee) {
		t.Errorf("LoadEventStore: %v is no *EnvError", err)
	}
	for name, c := range map[string]struct {
		err  error
		want []string
	}{
		"observer": {second(LoadObserver(from(map[string]string{CountersTable: "t", CountersQueueURL: "q", CountersStrategy: "linear",
			CountersDelaySeconds: "901", ObserverUnchanged: "0", ObserverMaxWaitSeconds: "59", ObserverEventBus: "b", ObserverTopicARN: "arn"}))),
			[]string{`STRATEGY = "linear"`, `DELAY_SECONDS = "901": must be a whole number from 0 to 900`, `UNCHANGED = "0"`, `MAX_WAIT_SECONDS = "59"`}},
		"monitor": {second(LoadMonitor(from(map[string]string{CountersTable: "t", CountersQueueURL: "q", CountersStrategy: "constant",
			CountersDelaySeconds: "30", MonitorWatches: `[{"bucket":"b","depth":21}]`, MonitorMarkerTTLSeconds: "0"}))),
			[]string{`WATCHES = "[{\"bucket\":\"b\",\"depth\":21}]": watch 0`, `MARKER_TTL_SECONDS = "0"`}},
		"monitor without watches": {second(LoadMonitor(from(map[string]string{CountersTable: "t", CountersQueueURL: "q", CountersStrategy: "constant",
			CountersDelaySeconds: "30", MonitorWatches: `[]`}))), []string{`WATCHES = "[]"`}},
		"listener": {second(LoadMicroListener(from(map[string]string{MicroListenerTable: "t", MicroListenerTypes: "a,,b",
			MicroListenerKeyField: "a b", MicroListenerRetentionDays: "3651"}))),
			[]string{`TYPES = "a,,b"`, `KEY_FIELD = "a b"`, `RETENTION_DAYS = "3651": must be a whole number from 1 to 3650`}},
		"replay, two targets": {second(LoadReplay(from(map[string]string{ReplayLakeBucket: "l", ReplayTargetFunction: "f", ReplayTargetStream: "s"}))),
			[]string{`TARGET_FUNCTION = "f": exactly one of`}},
		"replay, no target": {second(LoadReplay(from(map[string]string{ReplayLakeBucket: "l"}))), []string{"TARGET_STREAM is not set: exactly one of"}},
		"starter":           {second(LoadPipelineStarter(from(nil))), []string{"STATE_MACHINE_ARN is not set"}},
		"data pipeline":     {second(LoadDataPipeline(from(map[string]string{DataPipelineTemplateID: ""}))), []string{`TEMPLATE_PIPELINE_ID = ""`}},
		"trigger":           {second(LoadMicroTrigger(from(nil))), []string{"MICROSTORE_TABLE is not set"}},
	} {
		for _, want := range c.want {
			if c.err == nil || !strings.Contains(c.err.Error(), want) {
				t.Errorf("%s: %v, want it to say %q", name, c.err, want)
			}
		}
	}
}

// The listener's key field defaults, and an empty TYPES keeps every type.
func TestMicroListenerDefaults(t *testing.T) {
	c, err := LoadMicroListener(from(map[string]string{MicroListenerTable: "t", MicroListenerRetentionDays: "1"}))
	if err != nil || c.KeyField != DefaultKeyField || c.Types != nil {
		t.Errorf("got %+v, %v; want key field %q and no types", c, err, DefaultKeyField)
	}
}

func second[T any](_ T, err error) error { return err }

// An object belongs to the data set of its directory, or of its first Depth segments under the prefix; the first
// watch that covers it decides.
func TestDataSetOf(t *testing.T) {
	watches := []Watch{{Bucket: "lake", Prefix: "events/", Depth: 2}, {Bucket: "drops", Prefix: "in/"}, {Bucket: "root"}}
	for _, c := range []struct{ bucket, key, want string }{
		{"lake", "events/2026/11/21/x", "lake/events/2026/11/"},
		{"lake", "events/2026/x", ""}, // not deep enough
		{"lake", "other/2026/11/x", ""},
		{"drops", "in/a/b/file", "drops/in/a/b/"},
		{"root", "file", "root/"},
		{"elsewhere", "in/a", ""},
	} {
		if got := DataSetOf(watches, c.bucket, c.key); got != c.want {
			t.Errorf("DataSetOf(%s, %s) = %q, want %q", c.bucket, c.key, got, c.want)
		}
	}
	at := time.Date(2026, 11, 21, 9, 5, 0, 0, time.FixedZone("x", 3600))
	if got := ExpectedDataSet("lake", "events/", "2006/01/02/15/", at); got != "lake/events/2026/11/21/08/" {
		t.Errorf("ExpectedDataSet = %q, want the hour in UTC", got)
	}
}
