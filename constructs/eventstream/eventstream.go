package eventstream

import (
	"fmt"
	"math"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Retention limits of a Kinesis data stream, in hours.
const (
	MinRetentionHours = 24
	MaxRetentionHours = 8760
)

// EventStreamProps configures [NewEventStream].
type EventStreamProps struct {
	// StreamProps are passed to the Kinesis L2 Stream, after eventlake's defaults: on-demand capacity, 24 hours of
	// retention, server-side encryption with the AWS-managed aws/kinesis key (or StreamProps.EncryptionKey when set)
	// and the RETAIN removal policy. Every field is validated at synth time.
	StreamProps *awskinesis.StreamProps
	// IteratorAgeThreshold raises the iterator-age alarm when the oldest unread record of any reader is older than
	// this for 3 minutes in a row. Default: 5 minutes.
	IteratorAgeThreshold awscdk.Duration
	// ThrottleEvaluationPeriods raises the read and write throttling alarms after this many 1-minute periods in a row
	// with throttled requests. Default: 3.
	ThrottleEvaluationPeriods *float64
}

// EventStream is the system's Kinesis event stream.
type EventStream interface {
	constructs.Construct
	// Stream is the underlying Kinesis L2.
	Stream() awskinesis.Stream
	// Retention is the stream's retention period.
	Retention() awscdk.Duration
	// GrantRead lets grantee read the stream (and decrypt it with a customer-managed key).
	GrantRead(grantee awsiam.IGrantable) awsiam.Grant
	// GrantWrite lets grantee put records on the stream.
	GrantWrite(grantee awsiam.IGrantable) awsiam.Grant
	// IteratorAgeAlarm fires when a reader falls behind (GetRecords.IteratorAgeMilliseconds, by StreamName).
	IteratorAgeAlarm() awscloudwatch.Alarm
	// ReadThrottleAlarm fires when reads are throttled (ReadProvisionedThroughputExceeded, by StreamName).
	ReadThrottleAlarm() awscloudwatch.Alarm
	// WriteThrottleAlarm fires when writes are throttled (WriteProvisionedThroughputExceeded, by StreamName).
	WriteThrottleAlarm() awscloudwatch.Alarm
}

type eventStream struct {
	constructs.Construct
	stream        awskinesis.Stream
	retention     awscdk.Duration
	iteratorAge   awscloudwatch.Alarm
	readThrottle  awscloudwatch.Alarm
	writeThrottle awscloudwatch.Alarm
}

var streamNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// NewEventStream creates the event stream. Invalid props panic at synth time with a message naming the prop, its
// value and the limit.
func NewEventStream(scope constructs.Construct, id *string, props *EventStreamProps) EventStream {
	if props == nil {
		props = &EventStreamProps{}
	}
	sp := awskinesis.StreamProps{}
	if props.StreamProps != nil {
		sp = *props.StreamProps
	}
	if sp.StreamMode == "" {
		if sp.ShardCount != nil {
			panic(fmt.Sprintf("eventstream %s: StreamProps.ShardCount is %v but StreamProps.StreamMode is not set: a shard count needs StreamMode PROVISIONED (the default is ON_DEMAND, which scales by itself)", *id, *sp.ShardCount))
		}
		sp.StreamMode = awskinesis.StreamMode_ON_DEMAND
	}
	if sp.StreamMode == awskinesis.StreamMode_ON_DEMAND && sp.ShardCount != nil {
		panic(fmt.Sprintf("eventstream %s: StreamProps.ShardCount is %v with StreamMode ON_DEMAND; an on-demand stream has no shard count: remove it or use StreamMode PROVISIONED", *id, *sp.ShardCount))
	}
	if n := sp.ShardCount; n != nil && (*n < 1 || *n != math.Trunc(*n)) {
		panic(fmt.Sprintf("eventstream %s: StreamProps.ShardCount is %v; it must be a whole number of at least 1", *id, *n))
	}
	if n := sp.StreamName; n != nil && !*awscdk.Token_IsUnresolved(n) && !streamNamePattern.MatchString(*n) {
		panic(fmt.Sprintf("eventstream %s: StreamProps.StreamName %q must be 1 to 128 characters of a-z, A-Z, 0-9, '_', '.' and '-'", *id, *n))
	}
	if sp.RetentionPeriod == nil {
		sp.RetentionPeriod = awscdk.Duration_Hours(jsii.Number(MinRetentionHours))
	}
	validateRetention(*id, sp.RetentionPeriod)
	if sp.EncryptionKey != nil {
		if sp.Encryption != "" && sp.Encryption != awskinesis.StreamEncryption_KMS {
			panic(fmt.Sprintf("eventstream %s: StreamProps.EncryptionKey is set but StreamProps.Encryption is %s; a key needs Encryption KMS", *id, sp.Encryption))
		}
		sp.Encryption = awskinesis.StreamEncryption_KMS
	}
	switch sp.Encryption {
	case "":
		sp.Encryption = awskinesis.StreamEncryption_MANAGED
	case awskinesis.StreamEncryption_UNENCRYPTED:
		panic(fmt.Sprintf("eventstream %s: StreamProps.Encryption is UNENCRYPTED; the event stream is always encrypted at rest (MANAGED, or KMS with your key)", *id))
	}
	if sp.RemovalPolicy == "" {
		sp.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}

	threshold := props.IteratorAgeThreshold
	if threshold == nil {
		threshold = awscdk.Duration_Minutes(jsii.Number(5))
	}
	periods := 3.0
	if props.ThrottleEvaluationPeriods != nil {
		periods = *props.ThrottleEvaluationPeriods
		if periods < 1 || periods != math.Trunc(periods) {
			panic(fmt.Sprintf("eventstream %s: ThrottleEvaluationPeriods is %v; it must be a whole number of at least 1", *id, periods))
		}
	}

	this := constructs.NewConstruct(scope, id)
	s := &eventStream{Construct: this, retention: sp.RetentionPeriod}
	s.stream = awskinesis.NewStream(this, jsii.String("Stream"), &sp)
	if !*awscdk.Token_IsUnresolved(sp.RetentionPeriod) {
		recordRetention(s.stream, *sp.RetentionPeriod.ToHours(nil))
	}
	if sp.EncryptionKey != nil {
		cdknag.NagSuppressions_AddResourceSuppressions(s.stream, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-KDS3"),
			Reason: jsii.String("A customer-managed key was chosen explicitly through EventStreamProps.StreamProps.EncryptionKey."),
		}}, jsii.Bool(false))
	}

	minute := awscdk.Duration_Minutes(jsii.Number(1))
	s.iteratorAge = awscloudwatch.NewAlarm(this, jsii.String("IteratorAgeAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("A reader of the event stream is more than %s behind.", *threshold.ToHumanString())),
		Metric: s.stream.MetricGetRecordsIteratorAgeMilliseconds(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: minute,
		}),
		Threshold:          threshold.ToMilliseconds(nil),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3),
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	throttleAlarm := func(id, what string, m awscloudwatch.Metric) awscloudwatch.Alarm {
		return awscloudwatch.NewAlarm(this, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(fmt.Sprintf("%s on the event stream are throttled.", what)),
			Metric:             m,
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(periods),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: minute}
	s.readThrottle = throttleAlarm("ReadThrottleAlarm", "Reads", s.stream.MetricReadProvisionedThroughputExceeded(sum))
	s.writeThrottle = throttleAlarm("WriteThrottleAlarm", "Writes", s.stream.MetricWriteProvisionedThroughputExceeded(sum))
	return s
}

// validateRetention checks a retention period against Kinesis's limits, unless it is a token.
func validateRetention(id string, d awscdk.Duration) {
	if *awscdk.Token_IsUnresolved(d) {
		return
	}
	secs := *d.ToSeconds(nil)
	if secs != math.Trunc(secs/3600)*3600 {
		panic(fmt.Sprintf("eventstream %s: StreamProps.RetentionPeriod is %s; Kinesis retention is a whole number of hours", id, *d.ToHumanString()))
	}
	if h := secs / 3600; h < MinRetentionHours || h > MaxRetentionHours {
		panic(fmt.Sprintf("eventstream %s: StreamProps.RetentionPeriod is %v hours; it must be from %d to %d hours (365 days)", id, h, MinRetentionHours, MaxRetentionHours))
	}
}

func (s *eventStream) Stream() awskinesis.Stream                   { return s.stream }
func (s *eventStream) Retention() awscdk.Duration                  { return s.retention }
func (s *eventStream) IteratorAgeAlarm() awscloudwatch.Alarm       { return s.iteratorAge }
func (s *eventStream) ReadThrottleAlarm() awscloudwatch.Alarm      { return s.readThrottle }
func (s *eventStream) WriteThrottleAlarm() awscloudwatch.Alarm     { return s.writeThrottle }
func (s *eventStream) GrantRead(g awsiam.IGrantable) awsiam.Grant  { return s.stream.GrantRead(g) }
func (s *eventStream) GrantWrite(g awsiam.IGrantable) awsiam.Grant { return s.stream.GrantWrite(g) }
