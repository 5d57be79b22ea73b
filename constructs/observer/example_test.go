package observer_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/observer"
	rt "github.com/eventlake/eventlake/observer"
)

// Every day's folder of a partner's drop bucket is a data set: ready after 5 quiet readings, polled ever faster.
func ExampleNewObserver() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Ingest"), nil)
	drops := awss3.Bucket_FromBucketName(stack, jsii.String("Drops"), jsii.String("partner-drops"))

	o := observer.NewObserver(stack, jsii.String("DropsObserver"), &observer.ObserverProps{
		Watches:   []*observer.WatchProps{{Bucket: drops, Prefix: jsii.String("incoming/"), Depth: jsii.Number(1)}},
		Strategy:  rt.Reciprocal,
		Delay:     awscdk.Duration_Minutes(jsii.Number(5)),
		Unchanged: jsii.Number(5),
	})
	fmt.Println(*o.Topic().Node().Id())
	// Output: Ready
}
