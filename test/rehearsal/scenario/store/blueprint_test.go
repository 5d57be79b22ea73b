package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/eventlake/eventlake/test/rehearsal"
	"github.com/eventlake/eventlake/test/rehearsal/sources"
)

// blueprint is what the scenarios drive of the deployed blueprint: the event stream, the functions subscribed to it
// and their subscriptions' settings, the micro store's trigger, the lake's delivery stream and the tables. Everything
// is found by what it is — a function by the variables its handler reads, a subscription by the function it names —
// not by logical id, so that a renamed construct does not break the scenarios but a lost subscription does.
type blueprint struct {
	// streamARN is the event stream's ARN.
	streamARN string
	// writer is the event store writer, writerSub its Custom::EventlakeSubscription's settings.
	writer    *rehearsal.Function
	writerSub sources.StreamSettings
	// listener is the orders micro store's listener, listenerSub its subscription's settings (with a type filter).
	listener    *rehearsal.Function
	listenerSub sources.StreamSettings
	// trigger is the orders micro store's service logic (exampletrigger), triggerMapping the settings of its
	// AWS::Lambda::EventSourceMapping on the micro store table's stream.
	trigger        *rehearsal.Function
	triggerMapping sources.StreamSettings
	// projections is the replay's target (the example subscriber), projectionsSub its subscription's settings.
	projections    *rehearsal.Function
	projectionsSub sources.StreamSettings
	// transform is the lake's Firehose transformation, lake its delivery stream's settings.
	transform *rehearsal.Function
	lake      sources.FirehoseSettings
	// lakeBucket and lakePrefix are where the deployed replay reads the lake (its LAKE_BUCKET and LAKE_PREFIX).
	lakeBucket, lakePrefix string
	// storeTable is the event store table (the writer's TABLE), microTable the orders micro store's (the listener's).
	storeTable, microTable string
	// orderTypes is the listener's TYPES: the event types the orders micro store keeps.
	orderTypes string
}

// findBlueprint finds the blueprint's parts in the rehearsal's deployment and fails the test when one is missing.
func findBlueprint(t *testing.T, r *rehearsal.Rehearsal) *blueprint {
	t.Helper()
	d := r.Deployment()
	a := d.Assembly
	bp := &blueprint{}
	withEnv := func(keys ...string) *rehearsal.Function {
		var found []*rehearsal.Function
		for _, fn := range r.Functions() {
			all := true
			for _, k := range keys {
				if _, ok := fn.Environment[k]; !ok {
					all = false
				}
			}
			if all {
				found = append(found, fn)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d functions of the templates have the environment variables %v, want 1", len(found), keys)
		}
		return found[0]
	}
	named := func(nameOrARN string) *rehearsal.Function {
		fn := r.FunctionNamed(nameOrARN[strings.LastIndex(nameOrARN, ":")+1:])
		if fn == nil {
			t.Fatalf("%s is none of the templates' functions", nameOrARN)
		}
		return fn
	}

	bp.writer = withEnv("TABLE", "PAYLOAD_BUCKET", "SHARDS")
	bp.listener = withEnv("TABLE", "TYPES", "KEY_FIELD")
	bp.trigger = withEnv("MICROSTORE_TABLE")
	replayFn := withEnv("LAKE_BUCKET", "LAKE_PREFIX", "TARGET_FUNCTION")
	bp.projections = named(replayFn.Environment["TARGET_FUNCTION"])
	bp.lakeBucket, bp.lakePrefix = replayFn.Environment["LAKE_BUCKET"], replayFn.Environment["LAKE_PREFIX"]
	bp.storeTable = bp.writer.Environment["TABLE"]
	bp.microTable, bp.orderTypes = bp.listener.Environment["TABLE"], bp.listener.Environment["TYPES"]
	if bp.trigger.Environment["MICROSTORE_TABLE"] != bp.microTable {
		t.Fatalf("the trigger reads %s, the listener writes %s", bp.trigger.Environment["MICROSTORE_TABLE"], bp.microTable)
	}

	streams := a.ResourcesOfType("AWS::Kinesis::Stream")
	if len(streams) != 1 {
		t.Fatalf("%d Kinesis streams in the templates, want the event stream only", len(streams))
	}
	var err error
	if bp.streamARN, err = d.Attr(streams[0].Stack, streams[0].LogicalID, "Arn"); err != nil {
		t.Fatal(err)
	}

	subscribed := map[*rehearsal.Function]*sources.StreamSettings{
		bp.writer: &bp.writerSub, bp.listener: &bp.listenerSub, bp.projections: &bp.projectionsSub,
	}
	for _, res := range a.ResourcesOfType("Custom::EventlakeSubscription") {
		s, err := sources.KinesisSettingsFrom(d.Properties(res.Stack, res.LogicalID))
		if err != nil {
			t.Fatalf("%s/%s: %v", res.Stack, res.LogicalID, err)
		}
		if into, ok := subscribed[named(s.FunctionName)]; ok {
			if into.FunctionName != "" {
				t.Fatalf("%s has two subscriptions", s.FunctionName)
			}
			*into = s
		}
	}
	for fn, s := range subscribed {
		if s.FunctionName == "" {
			t.Fatalf("no Custom::EventlakeSubscription subscribes %s/%s", fn.Stack, fn.LogicalID)
		}
	}

	for _, res := range a.ResourcesOfType("AWS::Lambda::EventSourceMapping") {
		props := d.Properties(res.Stack, res.LogicalID)
		if src, _ := arn.Parse(fmt.Sprint(props["EventSourceArn"])); src.Service != "dynamodb" {
			continue
		}
		s, err := sources.DynamoDBSettingsFrom(props)
		if err != nil {
			t.Fatalf("%s/%s: %v", res.Stack, res.LogicalID, err)
		}
		if named(s.FunctionName) == bp.trigger {
			bp.triggerMapping = s
		}
	}
	if bp.triggerMapping.FunctionName == "" {
		t.Fatalf("no event source mapping of a table stream invokes the trigger %s", bp.trigger.Name())
	}

	fires := a.ResourcesOfType("AWS::KinesisFirehose::DeliveryStream")
	if len(fires) != 1 {
		t.Fatalf("%d delivery streams in the templates, want the lake's", len(fires))
	}
	if bp.lake, err = sources.FirehoseSettingsFrom(d.Properties(fires[0].Stack, fires[0].LogicalID)); err != nil {
		t.Fatal(err)
	}
	if bp.lake.DeliveryStreamName, err = d.Ref(fires[0].Stack, fires[0].LogicalID); err != nil {
		t.Fatal(err)
	}
	if bp.lake.Processor == nil {
		t.Fatal("the lake's delivery stream has no transformation")
	}
	bp.transform = named(bp.lake.Processor.LambdaARN)
	if bp.lake.SourceStreamARN != bp.streamARN || "arn:aws:s3:::"+bp.lakeBucket != bp.lake.BucketARN {
		t.Fatalf("the lake reads %s into %s; the event stream is %s and the replay reads %s", bp.lake.SourceStreamARN, bp.lake.BucketARN, bp.streamARN, bp.lakeBucket)
	}
	return bp
}
