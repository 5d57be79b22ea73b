package eventstream

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Registries, kept as constructs in the stream's stack: they synthesize to nothing.
const (
	sharedRegistry = "EventlakeSharedReaders"
	fanOutRegistry = "EventlakeFanOutConsumers"
	retentionID    = "EventlakeRetention"
)

func registryID(kind string, stream awskinesis.IStream) *string {
	return jsii.String(kind + *stream.Node().Addr())
}

func findRegistry(kind string, stream awskinesis.IStream) constructs.Construct {
	c, _ := awscdk.Stack_Of(stream).Node().TryFindChild(registryID(kind, stream)).(constructs.Construct)
	return c
}

func register(kind string, stream awskinesis.IStream, reader constructs.IConstruct) {
	registry := findRegistry(kind, stream)
	if registry == nil {
		registry = constructs.NewConstruct(awscdk.Stack_Of(stream), registryID(kind, stream))
	}
	id := reader.Node().Addr()
	if registry.Node().TryFindChild(id) != nil {
		return
	}
	entry := constructs.NewConstruct(registry, id)
	entry.Node().SetContext(jsii.String("path"), reader.Node().Path())
}

func registered(kind string, stream awskinesis.IStream) []string {
	registry := findRegistry(kind, stream)
	if registry == nil {
		return nil
	}
	var paths []string
	for _, c := range *registry.Node().Children() {
		if p, ok := c.Node().TryGetContext(jsii.String("path")).(string); ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// RegisterSharedReader records reader as a shared-throughput (standard, not enhanced fan-out) reader of stream:
// Firehose delivery streams and standard Lambda event source mappings. Registering the same reader twice counts once.
// The record lives in the construct tree of the stream's stack, so the readers of one IStream value (own or imported)
// are counted together, wherever they are.
func RegisterSharedReader(stream awskinesis.IStream, reader constructs.IConstruct) {
	register(sharedRegistry, stream, reader)
}

// SharedReaders returns the construct paths of stream's registered shared-throughput readers, sorted.
func SharedReaders(stream awskinesis.IStream) []string { return registered(sharedRegistry, stream) }

// RegisterFanOutConsumer records reader as an enhanced fan-out consumer of stream, counted against the stream's
// limit of MaxFanOutConsumers.
func RegisterFanOutConsumer(stream awskinesis.IStream, reader constructs.IConstruct) {
	register(fanOutRegistry, stream, reader)
}

// FanOutConsumers returns the construct paths of stream's registered enhanced fan-out consumers, sorted.
func FanOutConsumers(stream awskinesis.IStream) []string { return registered(fanOutRegistry, stream) }

// MaxFanOutConsumers is how many enhanced fan-out consumers Kinesis lets register with one stream.
const MaxFanOutConsumers = 20

// RetentionOf returns the retention period of a stream made by NewEventStream, or nil for any other stream.
func RetentionOf(stream awskinesis.IStream) awscdk.Duration {
	c := findRegistry(retentionID, stream)
	if c == nil {
		return nil
	}
	if h, ok := c.Node().TryGetContext(jsii.String("hours")).(float64); ok {
		return awscdk.Duration_Hours(jsii.Number(h))
	}
	return nil
}

func recordRetention(stream awskinesis.IStream, hours float64) {
	c := constructs.NewConstruct(awscdk.Stack_Of(stream), registryID(retentionID, stream))
	c.Node().SetContext(jsii.String("hours"), hours)
}
