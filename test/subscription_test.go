package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/constructs/subscription"
)

func subscriberFn(stack awscdk.Stack, id string) awslambda.IFunction {
	return awslambda.NewFunction(stack, jsii.String(id), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(), Handler: jsii.String("index.handler"),
		Code: awslambda.Code_FromInline(jsii.String("exports.handler = async () => ({ batchItemFailures: [] })")),
	})
}

func TestSubscriptionTiers(t *testing.T) {
	for _, c := range []struct {
		tier                      subscription.Tier
		batch, window, iteratorMs string
		fanOut                    bool
	}{
		{subscription.Realtime, "10", "0", "30000", true},
		{subscription.Standard, "100", "1", "120000", false},
		{subscription.Bulk, "1000", "60", "900000", false},
	} {
		t.Run(string(c.tier), func(t *testing.T) {
			stack := newStack()
			es := eventstream.NewEventStream(stack, jsii.String("Events"), nil)
			sub := subscription.NewSubscription(stack, jsii.String("Sub"), &subscription.SubscriptionProps{
				Stream: es.Stream(), Function: subscriberFn(stack, "Fn"), Tier: c.tier,
			})
			tmpl := assertions.Template_FromStack(stack, nil)
			source := map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^EventsStream")), "Arn"}}
			if c.fanOut {
				source = map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^SubConsumer")), "ConsumerARN"}}
				tmpl.ResourceCountIs(jsii.String("AWS::Kinesis::StreamConsumer"), jsii.Number(1))
			} else {
				tmpl.ResourceCountIs(jsii.String("AWS::Kinesis::StreamConsumer"), jsii.Number(0))
			}
			tmpl.HasResource(jsii.String("Custom::EventlakeSubscription"), map[string]any{
				"Properties": map[string]any{
					"ServiceToken":   map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^EventlakeMapperFunction")), "Arn"}},
					"ServiceTimeout": "660",
					"FunctionName":   map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Fn")), "Arn"}},
					"EventSourceArn": source, "BatchSize": c.batch, "MaximumBatchingWindowInSeconds": c.window,
					"StartingPosition": "TRIM_HORIZON", "BisectBatchOnFunctionError": "true", "ReportBatchItemFailures": "true",
					"MaximumRetryAttempts": "10", "MaximumRecordAgeInSeconds": "86400", "ParallelizationFactor": "1",
					"OnFailureDestination": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^EventlakeFailedBatches")), "Arn"}},
					"Metrics":              []any{"EventCount"}, "Enabled": "true",
				},
				// The mapping is made after the function's permissions.
				"DependsOn": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^FnServiceRoleDefaultPolicy"))}),
			})
			// Alarms with the dimensions that make them fire.
			tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"MetricName": "IteratorAge", "Statistic": "Maximum", "Threshold": num(c.iteratorMs),
				"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Fn"))}}},
			})
			tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Errors"})
			for _, m := range []string{"OnFailureDestinationDeliveredEventCount", "DroppedEventCount"} {
				tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
					"MetricName": m,
					"Dimensions": []any{map[string]any{"Name": "EventSourceMappingUUID", "Value": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SubMapping"))}}},
				})
			}
			// The subscriber may write its failed batches, and nothing else, to the bucket.
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Action": "s3:PutObject"}),
				assertions.Match_ObjectLike(&map[string]any{"Action": "s3:ListBucket"}),
			})}})
			if sub.Tier() != c.tier || (sub.Consumer() != nil) != c.fanOut {
				t.Errorf("Tier() %s, Consumer() %v", sub.Tier(), sub.Consumer())
			}
		})
	}
}

func num(s string) any {
	var n float64
	fmt.Sscan(s, &n)
	return n
}

func TestOneMapperPerStack(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	for i := range 3 {
		subscription.NewSubscription(stack, jsii.String(fmt.Sprint("Sub", i)), &subscription.SubscriptionProps{Stream: s, Function: subscriberFn(stack, fmt.Sprint("Fn", i)), Tier: subscription.Bulk})
	}
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.ResourceCountIs(jsii.String("Custom::EventlakeSubscription"), jsii.Number(3))
	tmpl.ResourcePropertiesCountIs(jsii.String("AWS::Lambda::Function"), map[string]any{"Handler": "bootstrap", "Timeout": 600}, jsii.Number(1))
	tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(2)) // failed batches and its access logs
}

func TestSubscriptionOverridesAndImportedStream(t *testing.T) {
	stack := newStack()
	stream := awskinesis.Stream_FromStreamArn(stack, jsii.String("S"), jsii.String("arn:aws:kinesis:us-east-1:111111111111:stream/events"))
	queue := awssqs.NewQueue(stack, jsii.String("Failures"), nil)
	alias := awslambda.NewAlias(stack, jsii.String("Live"), &awslambda.AliasProps{AliasName: jsii.String("live"), Version: subscriberFn(stack, "Fn").(awslambda.Function).CurrentVersion()})
	subscription.NewSubscription(stack, jsii.String("Sub"), &subscription.SubscriptionProps{
		Stream: stream, Function: alias, Tier: subscription.Bulk, StreamRetention: awscdk.Duration_Days(jsii.Number(7)),
		BatchSize: jsii.Number(5000), MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(300)),
		StartingPosition: awslambda.StartingPosition_LATEST, OnFailure: subscription.FailuresToQueue(queue),
		MaxRecordAge: awscdk.Duration_Days(jsii.Number(7)),
		Filters:      &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{"data": map[string]interface{}{"type": awslambda.FilterRule_IsEqual(jsii.String("order-placed"))}})},
	})
	tmpl := assertions.Template_FromStack(stack, nil)
	tmpl.HasResourceProperties(jsii.String("Custom::EventlakeSubscription"), map[string]any{
		"FunctionName": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Live"))}, "EventSourceArn": "arn:aws:kinesis:us-east-1:111111111111:stream/events",
		"BatchSize": "5000", "MaximumBatchingWindowInSeconds": "300", "StartingPosition": "LATEST", "MaximumRecordAgeInSeconds": "604800",
		"OnFailureDestination": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Failures")), "Arn"}},
		"FilterPatterns":       []any{`{"data":{"type":["order-placed"]}}`},
	})
	tmpl.ResourceCountIs(jsii.String("AWS::S3::Bucket"), jsii.Number(0))
}

func TestSubscriptionValidation(t *testing.T) {
	cases := map[string]struct {
		props func(*subscription.SubscriptionProps)
		want  []string
	}{
		"batch size": {func(p *subscription.SubscriptionProps) { p.BatchSize = jsii.Number(20000) }, []string{"BatchSize", "20000", "1 to 10000"}},
		"window": {func(p *subscription.SubscriptionProps) {
			p.MaxBatchingWindow = awscdk.Duration_Minutes(jsii.Number(10))
		}, []string{"MaxBatchingWindow", "600", "0 to 300"}},
		"parallelization": {func(p *subscription.SubscriptionProps) { p.ParallelizationFactor = jsii.Number(11) }, []string{"ParallelizationFactor", "11", "1 to 10"}},
		"retries":         {func(p *subscription.SubscriptionProps) { p.RetryAttempts = jsii.Number(-2) }, []string{"RetryAttempts", "-2", "-1 to 10000"}},
		"record age":      {func(p *subscription.SubscriptionProps) { p.MaxRecordAge = awscdk.Duration_Seconds(jsii.Number(30)) }, []string{"MaxRecordAge", "30", "60 to 604800"}},
		"age > retention": {func(p *subscription.SubscriptionProps) { p.MaxRecordAge = awscdk.Duration_Hours(jsii.Number(48)) }, []string{"MaxRecordAge", "172800", "retention of 86400"}},
		"tumbling":        {func(p *subscription.SubscriptionProps) { p.TumblingWindow = awscdk.Duration_Minutes(jsii.Number(20)) }, []string{"TumblingWindow", "1200", "0 to 900"}},
		"tier":            {func(p *subscription.SubscriptionProps) { p.Tier = "urgent" }, []string{"Tier", "urgent"}},
		"timestamp":       {func(p *subscription.SubscriptionProps) { p.StartingPosition = awslambda.StartingPosition_AT_TIMESTAMP }, []string{"StartingPositionTimestamp", "AT_TIMESTAMP"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := newStack()
			es := eventstream.NewEventStream(stack, jsii.String("Events"), nil)
			p := &subscription.SubscriptionProps{Stream: es.Stream(), Function: subscriberFn(stack, "Fn")}
			c.props(p)
			mustPanic(t, func() { subscription.NewSubscription(stack, jsii.String("Sub"), p) }, c.want...)
		})
	}
}

func TestImportedFunctionWithoutRoleIsAClearError(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	fn := awslambda.Function_FromFunctionArn(stack, jsii.String("Fn"), jsii.String("arn:aws:lambda:us-east-1:111111111111:function:f"))
	mustPanic(t, func() {
		subscription.NewSubscription(stack, jsii.String("Sub"), &subscription.SubscriptionProps{Stream: s, Function: fn})
	}, "Stack/Fn", "no role", "Function_FromFunctionAttributes")
}

func TestTooManyFanOutConsumers(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	fn := subscriberFn(stack, "Fn")
	for i := range eventstream.MaxFanOutConsumers {
		subscription.NewSubscription(stack, jsii.String(fmt.Sprint("Sub", i)), &subscription.SubscriptionProps{Stream: s, Function: fn, Tier: subscription.Realtime})
	}
	mustPanic(t, func() {
		subscription.NewSubscription(stack, jsii.String("OneMore"), &subscription.SubscriptionProps{Stream: s, Function: fn, Tier: subscription.Realtime})
	}, "20 enhanced fan-out consumers", "Standard or Bulk")
}

func TestWarnsWhenSharedReadersStarve(t *testing.T) {
	stack := newStack()
	s := awskinesis.NewStream(stack, jsii.String("S"), nil)
	for i := range 5 {
		subscription.NewSubscription(stack, jsii.String(fmt.Sprint("Sub", i)), &subscription.SubscriptionProps{Stream: s, Function: subscriberFn(stack, fmt.Sprint("Fn", i))})
	}
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("shared-throughput readers")))
	if len(*warnings) != 1 || !strings.Contains(fmt.Sprint((*warnings)[0].Entry.Data), "5 shared-throughput readers") {
		t.Errorf("warnings %v, want one when the fifth shared reader arrives", *warnings)
	}
}
