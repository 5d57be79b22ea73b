package subscription

import (
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/eventstream"
	"github.com/eventlake/eventlake/contract"
)

// Tier is a subscription's priority.
type Tier string

// The priority tiers.
const (
	// Realtime: a dedicated enhanced fan-out consumer, batches of 10, no batching window.
	Realtime Tier = "realtime"
	// Standard: shared throughput, batches of 100, a 1 s batching window.
	Standard Tier = "standard"
	// Bulk: shared throughput, batches of 1,000, a 60 s batching window.
	Bulk Tier = "bulk"
)

// MaxSharedReaders is how many shared-throughput readers a stream takes before they start starving each other
// (5 GetRecords calls per second per shard): past it, synth warns.
const MaxSharedReaders = 4

// SubscriptionProps configures [NewSubscription]. Unset fields take the tier's defaults.
type SubscriptionProps struct {
	// Stream is the event stream: an eventstream's Stream() or any imported awskinesis.IStream. Required.
	Stream awskinesis.IStream
	// Function is the subscriber: a function, alias or version, own or imported. Required.
	Function awslambda.IFunction
	// Tier is the subscription's priority. Default Standard.
	Tier Tier
	// StreamRetention is the stream's retention, for streams not made by eventstream (whose retention is known).
	// Default 24 hours, the least a stream keeps.
	StreamRetention awscdk.Duration
	// BatchSize is the most records per invocation (1 to 10,000).
	BatchSize *float64
	// MaxBatchingWindow is how long to gather records before invoking (0 to 300 s).
	MaxBatchingWindow awscdk.Duration
	// StartingPosition is where a new mapping starts reading. Default TRIM_HORIZON: nothing the stream still holds is
	// skipped.
	StartingPosition awslambda.StartingPosition
	// StartingPositionTimestamp, in epoch seconds, goes with StartingPosition AT_TIMESTAMP.
	StartingPositionTimestamp *float64
	// ParallelizationFactor is how many batches of one shard run at once (1 to 10); order per partition key holds.
	// Default 1.
	ParallelizationFactor *float64
	// BisectBatchOnError splits a failing batch in two to isolate a bad record. Default true.
	BisectBatchOnError *bool
	// RetryAttempts before a batch goes to OnFailure (-1 for infinite, up to 10,000). Default 10.
	RetryAttempts *float64
	// MaxRecordAge: older records go to OnFailure (60 s to 7 days, at most the stream's retention; -1 s for
	// infinite). Default: the stream's retention, at most 7 days.
	MaxRecordAge awscdk.Duration
	// OnFailure receives the batches given up on. Default: the stack's failed-batches S3 bucket.
	OnFailure OnFailure
	// ReportBatchItemFailures lets the function report the first record it failed, so the rest of a batch is not
	// retried before it. Default true.
	ReportBatchItemFailures *bool
	// Filters are event filtering patterns, as awslambda.FilterCriteria_Filter makes them.
	Filters *[]*map[string]interface{}
	// TumblingWindow aggregates state over windows (0 to 900 s). Default none.
	TumblingWindow awscdk.Duration
	// Enabled: a disabled mapping keeps its place and reads nothing. Default true.
	Enabled *bool
	// IteratorAgeThreshold raises the iterator-age alarm. Default: 30 s realtime, 2 min standard, 15 min bulk.
	IteratorAgeThreshold awscdk.Duration
}

// Subscription is one function subscribed to the event stream.
type Subscription interface {
	constructs.Construct
	// Tier is the subscription's priority.
	Tier() Tier
	// MappingID is the event source mapping's UUID.
	MappingID() *string
	// Consumer is the enhanced fan-out consumer of a Realtime subscription; nil otherwise.
	Consumer() awskinesis.IStreamConsumer
	// Resource is the custom resource that owns the mapping.
	Resource() awscdk.CustomResource
	// IteratorAgeAlarm fires when the function falls behind the stream.
	IteratorAgeAlarm() awscloudwatch.Alarm
	// ErrorsAlarm fires when the function's invocations fail.
	ErrorsAlarm() awscloudwatch.Alarm
	// FailedRecordsAlarm fires when records are sent to the on-failure destination.
	FailedRecordsAlarm() awscloudwatch.Alarm
	// DroppedRecordsAlarm fires when records are dropped (too old, or retries exhausted) without reaching a destination.
	DroppedRecordsAlarm() awscloudwatch.Alarm
}

type subscription struct {
	constructs.Construct
	tier                                 Tier
	resource                             awscdk.CustomResource
	consumer                             awskinesis.IStreamConsumer
	iteratorAge, errors, failed, dropped awscloudwatch.Alarm
}

type tierDefaults struct {
	batch, window float64
	iteratorAge   float64 // seconds
}

var defaults = map[Tier]tierDefaults{
	Realtime: {batch: 10, window: 0, iteratorAge: 30},
	Standard: {batch: 100, window: 1, iteratorAge: 120},
	Bulk:     {batch: 1000, window: 60, iteratorAge: 900},
}

// NewSubscription subscribes props.Function to props.Stream. Invalid props panic at synth time with a message that
// names the prop, its value and the limit.
func NewSubscription(scope constructs.Construct, id *string, props *SubscriptionProps) Subscription {
	where := "subscription " + *id
	if props == nil || props.Stream == nil || props.Function == nil {
		panic(where + ": SubscriptionProps.Stream and SubscriptionProps.Function are required")
	}
	tier := props.Tier
	if tier == "" {
		tier = Standard
	}
	def, ok := defaults[tier]
	if !ok {
		panic(fmt.Sprintf("%s: Tier %q must be %q, %q or %q", where, tier, Realtime, Standard, Bulk))
	}

	retention := eventstream.RetentionOf(props.Stream)
	if props.StreamRetention != nil {
		retention = props.StreamRetention
	}
	if retention == nil {
		retention = awscdk.Duration_Hours(jsii.Number(eventstream.MinRetentionHours))
	}
	retentionSecs := seconds(retention)

	batch := number(props.BatchSize, def.batch)
	checkRange(where, "BatchSize", batch, contract.MinBatchSize, contract.MaxBatchSize, "")
	window := def.window
	if props.MaxBatchingWindow != nil {
		window = seconds(props.MaxBatchingWindow)
	}
	checkRange(where, "MaxBatchingWindow", window, 0, contract.MaxBatchingWindowSeconds, " seconds")
	parallel := number(props.ParallelizationFactor, 1)
	checkRange(where, "ParallelizationFactor", parallel, contract.MinParallelization, contract.MaxParallelization, "")
	retries := number(props.RetryAttempts, 10)
	checkRange(where, "RetryAttempts", retries, -1, contract.MaxRetryAttempts, "")
	age := math.Min(retentionSecs, contract.MaxRecordAgeSeconds)
	if props.MaxRecordAge != nil {
		age = seconds(props.MaxRecordAge)
		if age != -1 {
			checkRange(where, "MaxRecordAge", age, contract.MinRecordAgeSeconds, contract.MaxRecordAgeSeconds, " seconds")
			if !math.IsNaN(retentionSecs) && age > retentionSecs {
				panic(fmt.Sprintf("%s: MaxRecordAge is %v seconds, longer than the stream's retention of %v seconds: records would expire from the stream before they count as too old", where, age, retentionSecs))
			}
		}
	}
	tumbling := 0.0
	if props.TumblingWindow != nil {
		tumbling = seconds(props.TumblingWindow)
		checkRange(where, "TumblingWindow", tumbling, 0, contract.MaxTumblingWindowSeconds, " seconds")
	}
	position := props.StartingPosition
	if position == "" {
		position = awslambda.StartingPosition_TRIM_HORIZON
	}
	if (position == awslambda.StartingPosition_AT_TIMESTAMP) != (props.StartingPositionTimestamp != nil) {
		panic(fmt.Sprintf("%s: StartingPositionTimestamp goes with StartingPosition AT_TIMESTAMP, and only with it (StartingPosition is %s)", where, position))
	}

	fn := props.Function
	if fn.Role() == nil {
		panic(fmt.Sprintf("%s: Function %s has no role to grant the stream and the failure destination to: import it with awslambda.Function_FromFunctionAttributes and its Role", where, *fn.Node().Path()))
	}
	this := constructs.NewConstruct(scope, id)
	s := &subscription{Construct: this, tier: tier}
	props.Stream.GrantRead(fn)
	source := props.Stream.StreamArn()
	if tier == Realtime {
		if n := len(eventstream.FanOutConsumers(props.Stream)); n >= eventstream.MaxFanOutConsumers {
			panic(fmt.Sprintf("%s: the stream already has %d enhanced fan-out consumers, the most Kinesis allows (%d): use the Standard or Bulk tier", where, n, eventstream.MaxFanOutConsumers))
		}
		s.consumer = awskinesis.NewStreamConsumer(this, jsii.String("Consumer"), &awskinesis.StreamConsumerProps{
			Stream:             props.Stream,
			StreamConsumerName: awscdk.Names_UniqueResourceName(this, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(128)}),
		})
		s.consumer.GrantRead(fn)
		eventstream.RegisterFanOutConsumer(props.Stream, this)
		source = s.consumer.StreamConsumerArn()
	} else {
		eventstream.RegisterSharedReader(props.Stream, this)
		if readers := eventstream.SharedReaders(props.Stream); len(readers) > MaxSharedReaders {
			awscdk.Annotations_Of(this).AddWarningV2(jsii.String("@eventlake/subscription:sharedReaders"), jsii.String(fmt.Sprintf(
				"the stream has %d shared-throughput readers %v; more than %d share each shard's 5 reads per second and starve each other: make latency-critical subscriptions Realtime (enhanced fan-out)",
				len(readers), readers, MaxSharedReaders)))
		}
	}

	onFailure := props.OnFailure
	if onFailure == nil {
		onFailure = FailuresToBucket(failedBatchesBucket(awscdk.Stack_Of(this)))
	}
	destination := onFailure.Bind(fn)

	properties := map[string]interface{}{
		contract.PropFunctionName:                   fn.FunctionArn(),
		contract.PropEventSourceArn:                 source,
		contract.PropBatchSize:                      fmt.Sprint(batch),
		contract.PropMaximumBatchingWindowInSeconds: fmt.Sprint(window),
		contract.PropStartingPosition:               string(position),
		contract.PropParallelizationFactor:          fmt.Sprint(parallel),
		contract.PropBisectBatchOnFunctionError:     fmt.Sprint(boolean(props.BisectBatchOnError, true)),
		contract.PropMaximumRetryAttempts:           fmt.Sprint(retries),
		contract.PropMaximumRecordAgeInSeconds:      fmt.Sprint(age),
		contract.PropOnFailureDestination:           destination,
		contract.PropReportBatchItemFailures:        fmt.Sprint(boolean(props.ReportBatchItemFailures, true)),
		contract.PropEnabled:                        fmt.Sprint(boolean(props.Enabled, true)),
		contract.PropMetrics:                        []string{"EventCount"},
	}
	if props.StartingPositionTimestamp != nil {
		properties[contract.PropStartingPositionTimestamp] = fmt.Sprint(int64(*props.StartingPositionTimestamp))
	}
	if tumbling > 0 {
		properties[contract.PropTumblingWindowInSeconds] = fmt.Sprint(tumbling)
	}
	if props.Filters != nil {
		var patterns []string
		for i, f := range *props.Filters {
			p, ok := (*f)["pattern"].(string)
			if !ok {
				panic(fmt.Sprintf("%s: Filters[%d] has no pattern: make filters with awslambda.FilterCriteria_Filter", where, i))
			}
			patterns = append(patterns, p)
		}
		properties[contract.PropFilterPatterns] = patterns
	}

	mapper := mapperFunction(awscdk.Stack_Of(this))
	s.resource = awscdk.NewCustomResource(this, jsii.String("Mapping"), &awscdk.CustomResourceProps{
		ServiceToken:   mapper.FunctionArn(),
		ResourceType:   jsii.String(contract.SubscriptionResourceType),
		Properties:     &properties,
		ServiceTimeout: awscdk.Duration_Seconds(jsii.Number(mapperTimeoutSeconds + 60)),
	})
	// Lambda checks the function's permissions (stream, destination) when the mapping is made: grant first. (The
	// function itself is referenced by ARN, which orders it already.)
	if role := fn.Role(); role != nil {
		s.resource.Node().AddDependency(role)
	}
	if fnRole, ok := fn.Role().(awsiam.Role); ok {
		suppressDestinationGrant(fnRole)
	}

	threshold := props.IteratorAgeThreshold
	if threshold == nil {
		threshold = awscdk.Duration_Seconds(jsii.Number(def.iteratorAge))
	}
	s.alarms(fn, threshold)
	return s
}

func (s *subscription) alarms(fn awslambda.IFunction, threshold awscdk.Duration) {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm := func(id, description string, m awscloudwatch.IMetric, threshold float64, periods float64) awscloudwatch.Alarm {
		return awscloudwatch.NewAlarm(s.Construct, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             m,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(periods),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	s.iteratorAge = alarm("IteratorAgeAlarm", fmt.Sprintf("The subscriber is more than %s behind the stream.", *threshold.ToHumanString()),
		fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minute}),
		*threshold.ToMilliseconds(nil), 3)
	s.errors = alarm("ErrorsAlarm", "The subscriber's invocations fail.",
		fn.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}), 0, 1)
	mappingMetric := func(name string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String("AWS/Lambda"), MetricName: jsii.String(name), Statistic: jsii.String("Sum"), Period: five,
			DimensionsMap: &map[string]*string{"EventSourceMappingUUID": s.MappingID()},
		})
	}
	s.failed = alarm("FailedRecordsAlarm", "Records the subscriber gave up on were sent to the on-failure destination.",
		mappingMetric("OnFailureDestinationDeliveredEventCount"), 0, 1)
	s.dropped = alarm("DroppedRecordsAlarm", "Records were dropped without reaching the on-failure destination.",
		mappingMetric("DroppedEventCount"), 0, 1)
}

func (s *subscription) Tier() Tier                              { return s.tier }
func (s *subscription) MappingID() *string                      { return s.resource.Ref() }
func (s *subscription) Consumer() awskinesis.IStreamConsumer    { return s.consumer }
func (s *subscription) Resource() awscdk.CustomResource         { return s.resource }
func (s *subscription) IteratorAgeAlarm() awscloudwatch.Alarm   { return s.iteratorAge }
func (s *subscription) ErrorsAlarm() awscloudwatch.Alarm        { return s.errors }
func (s *subscription) FailedRecordsAlarm() awscloudwatch.Alarm { return s.failed }
func (s *subscription) DroppedRecordsAlarm() awscloudwatch.Alarm {
	return s.dropped
}

// suppressDestinationGrant explains the one wildcard the default destination adds to a subscriber's role:
// s3:PutObject on the failed-batches bucket's objects, whose keys Lambda makes up.
func suppressDestinationGrant(role awsiam.Role) {
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Lambda writes failed batches of this subscription to the failed-batches bucket under keys it generates: s3:PutObject on that bucket's objects only."),
		AppliesTo: &[]interface{}{
			&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<EventlakeFailedBatches[0-9A-F]{8}\\.Arn>\\/\\*$/")},
		},
	}}, jsii.Bool(true))
}

func seconds(d awscdk.Duration) float64 {
	if *awscdk.Token_IsUnresolved(d) {
		return math.NaN()
	}
	return *d.ToSeconds(nil)
}

func number(v *float64, def float64) float64 {
	if v == nil {
		return def
	}
	return *v
}

func boolean(v *bool, def bool) bool {
	if v == nil {
		return def
	}
	return *v
}

func checkRange(where, field string, v, min, max float64, unit string) {
	if math.IsNaN(v) {
		return // a token: checked by Lambda at deploy time
	}
	if v < min || v > max || v != math.Trunc(v) {
		panic(fmt.Sprintf("%s: %s is %v%s; it must be a whole number from %v to %v%s", where, field, v, unit, min, max, unit))
	}
}
