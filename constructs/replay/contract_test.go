package replay_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/replay"
	"github.com/eventlake/eventlake/contract"
	"github.com/eventlake/eventlake/test/cdktest"
)

// The replay function is given exactly the variables lambdas/replay reads, into a function or into a stream, and
// they parse; the FunctionOptions' own variables cannot override them.
func TestContract(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	stack := awscdk.NewStack(app, jsii.String("Stack"), nil)
	lake := awss3.NewBucket(stack, jsii.String("Lake"), nil)
	source := awskinesis.NewStream(stack, jsii.String("Events"), nil)
	target := golambda.NewFunction(stack, jsii.String("Target"), &golambda.FunctionProps{Package: golambda.Handler("examplesubscriber")})
	intoFunction := replay.NewReplay(stack, jsii.String("IntoFunction"), &replay.ReplayProps{
		Bucket: lake, Function: target, SourceStream: source,
		FunctionOptions: &awslambda.FunctionOptions{Environment: &map[string]*string{contract.ReplayLakePrefix: jsii.String("elsewhere/")}},
	})
	var got contract.Replay
	cdktest.CheckContract(t, stack, intoFunction.Function(), cdktest.Contract{
		Load: func(l contract.Lookup) (err error) { got, err = contract.LoadReplay(l); return err },
		Refs: map[string]string{
			contract.ReplayLakeBucket: "AWS::S3::Bucket", contract.ReplayTargetFunction: "AWS::Lambda::Function",
			contract.ReplaySourceStreamARN: "AWS::Kinesis::Stream",
		},
		Unset: []string{contract.ReplayTargetStream},
	})
	if got.LakePrefix != contract.DefaultLakePrefix {
		t.Errorf("the replay reads the lake under %q, want %q", got.LakePrefix, contract.DefaultLakePrefix)
	}

	// A stack synthesizes once: the stream replay in a stack of its own.
	stack = awscdk.NewStack(awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()}), jsii.String("Stack"), nil)
	lake = awss3.NewBucket(stack, jsii.String("Lake"), nil)
	replayStream := awskinesis.NewStream(stack, jsii.String("Replays"), nil)
	intoStream := replay.NewReplay(stack, jsii.String("IntoStream"), &replay.ReplayProps{Bucket: lake, Stream: replayStream, Prefix: jsii.String("lake/")})
	cdktest.CheckContract(t, stack, intoStream.Function(), cdktest.Contract{
		Load:  func(l contract.Lookup) (err error) { got, err = contract.LoadReplay(l); return err },
		Refs:  map[string]string{contract.ReplayLakeBucket: "AWS::S3::Bucket", contract.ReplayTargetStream: "AWS::Kinesis::Stream"},
		Unset: []string{contract.ReplayTargetFunction, contract.ReplaySourceStreamARN},
	})
	if got.LakePrefix != "lake/" {
		t.Errorf("the replay reads the lake under %q, want lake/", got.LakePrefix)
	}
}
