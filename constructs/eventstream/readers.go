package eventstream

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// registryID names the construct, in the stream's stack, that records the stream's shared-throughput readers. It
// synthesizes to nothing.
func registryID(stream awskinesis.IStream) *string {
	return jsii.String("EventlakeSharedReaders" + *stream.Node().Addr())
}

func findRegistry(stream awskinesis.IStream) constructs.Construct {
	c, _ := awscdk.Stack_Of(stream).Node().TryFindChild(registryID(stream)).(constructs.Construct)
	return c
}

// RegisterSharedReader records reader as a shared-throughput (standard, not enhanced fan-out) reader of stream:
// Firehose delivery streams and standard Lambda event source mappings. Registering the same reader twice counts once.
// The record lives in the construct tree of the stream's stack, so the readers of one IStream value (own or imported)
// are counted together, wherever they are.
func RegisterSharedReader(stream awskinesis.IStream, reader constructs.IConstruct) {
	registry := findRegistry(stream)
	if registry == nil {
		registry = constructs.NewConstruct(awscdk.Stack_Of(stream), registryID(stream))
	}
	id := reader.Node().Addr()
	if registry.Node().TryFindChild(id) != nil {
		return
	}
	entry := constructs.NewConstruct(registry, id)
	entry.Node().SetContext(jsii.String("path"), reader.Node().Path())
}

// SharedReaders returns the construct paths of stream's registered shared-throughput readers, sorted.
func SharedReaders(stream awskinesis.IStream) []string {
	registry := findRegistry(stream)
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
