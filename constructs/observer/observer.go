// Package observer deploys the data-set observer (SYSTEM.md, part 7; runtime in package observer): S3 "Object
// Created" events of the watched buckets, through EventBridge and a queue, to a monitor that counts them per data set
// into a DynamoDB table; an observer on an SQS loop that announces complete data sets as DataSetReady events on
// EventBridge and on an SNS topic.
//
// Watched buckets must send their events to EventBridge (a datalake's bucket does by default).
package observer

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	rt "github.com/eventlake/eventlake/observer"
)

// WatchProps names the data sets of a bucket: every object under Prefix belongs to the data set of its directory, or
// of its first Depth path segments after Prefix.
type WatchProps struct {
	// Bucket is the watched bucket; it must send its events to EventBridge.
	Bucket awss3.IBucket
	// Prefix limits the watch to keys under it.
	Prefix *string
	// Depth, when set, makes a data set of the first Depth path segments after Prefix (else: the object's directory).
	Depth *float64
}

// ObserverProps configures [NewObserver].
type ObserverProps struct {
	// Watches are the watched data sets. Required.
	Watches []*WatchProps
	// Strategy of the delay between readings. Default Constant.
	Strategy rt.Strategy
	// Delay is the base delay d (0 to 900 s). Default 30 s.
	Delay awscdk.Duration
	// Unchanged is N, the readings in a row without a change that make a data set complete (1 to 100). Default 3.
	Unchanged *float64
	// MaxWait is how long an observation runs before it gives up (1 minute to 14 days). Default 24 hours.
	MaxWait awscdk.Duration
	// EventBus receives DataSetReady and DataSetTimedOut events. Default: the account's default bus.
	EventBus awsevents.IEventBus
}

// Observer is the deployed observer.
type Observer interface {
	constructs.Construct
	// Table holds a counter per data set.
	Table() awsdynamodb.Table
	// Topic receives a message per completion (and per give-up); subscribe people to it.
	Topic() awssns.Topic
	// EventBus receives the DataSetReady events.
	EventBus() awsevents.IEventBus
	// Monitor counts objects; ObserverFunction runs the readings.
	Monitor() awslambda.Function
	ObserverFunction() awslambda.Function
}

type deployed struct {
	constructs.Construct
	table       awsdynamodb.Table
	topic       awssns.Topic
	bus         awsevents.IEventBus
	monitor, fn awslambda.Function
}

// NewObserver creates the observer. Invalid props panic at synth time, naming the prop, its value and the limit.
func NewObserver(scope constructs.Construct, id *string, props *ObserverProps) Observer {
	where := "observer " + *id
	if props == nil || len(props.Watches) == 0 {
		panic(where + ": ObserverProps.Watches is required: the buckets and prefixes whose data sets to observe")
	}
	strategy := props.Strategy
	if strategy == "" {
		strategy = rt.Constant
	}
	if _, err := rt.ParseStrategy(string(strategy)); err != nil {
		panic(fmt.Sprintf("%s: Strategy: %v", where, err))
	}
	delay := seconds(props.Delay, 30)
	check(where, "Delay", delay, 0, 900, " seconds")
	unchanged := 3.0
	if props.Unchanged != nil {
		unchanged = *props.Unchanged
	}
	check(where, "Unchanged", unchanged, 1, 100, "")
	maxWait := seconds(props.MaxWait, 86400)
	check(where, "MaxWait", maxWait, 60, 14*86400, " seconds")

	this := constructs.NewConstruct(scope, id)
	d := &deployed{Construct: this, bus: props.EventBus}
	if d.bus == nil {
		d.bus = awsevents.EventBus_FromEventBusName(this, jsii.String("DefaultBus"), jsii.String("default"))
	}
	d.table = awsdynamodb.NewTable(this, jsii.String("Counters"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(rt.AttrDataSet), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	d.topic = awssns.NewTopic(this, jsii.String("Ready"), &awssns.TopicProps{
		DisplayName: jsii.String("Data sets ready"), EnforceSSL: jsii.Bool(true),
		MasterKey: awskms.Alias_FromAliasName(this, jsii.String("SnsKey"), jsii.String("alias/aws/sns")),
	})

	objects, objectsDLQ := queuePair(this, "ObjectEvents", 360)
	readings, _ := queuePair(this, "Readings", 360)
	var names []*string
	var prefixes []interface{}
	var watches []rt.Watch
	for i, w := range props.Watches {
		if w == nil || w.Bucket == nil {
			panic(fmt.Sprintf("%s: Watches[%d].Bucket is required", where, i))
		}
		prefix := ""
		if w.Prefix != nil {
			prefix = *w.Prefix
		}
		depth := 0.0
		if w.Depth != nil {
			depth = *w.Depth
			check(where, fmt.Sprintf("Watches[%d].Depth", i), depth, 0, 20, "")
		}
		names = append(names, w.Bucket.BucketName())
		prefixes = append(prefixes, map[string]string{"prefix": prefix})
		watches = append(watches, rt.Watch{Bucket: "${bucket" + fmt.Sprint(i) + "}", Prefix: prefix, Depth: int(depth)})
	}
	awsevents.NewRule(this, jsii.String("ObjectCreated"), &awsevents.RuleProps{
		Description: jsii.String("S3 Object Created events of the watched buckets, to the observer's monitor"),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.s3"), DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]interface{}{"bucket": map[string]interface{}{"name": names}, "object": map[string]interface{}{"key": prefixes}},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(objects, &awseventstargets.SqsQueueProps{DeadLetterQueue: objectsDLQ})},
	})

	watchJSON, _ := json.Marshal(watches)
	env := map[string]*string{
		"TABLE": d.table.TableName(), "QUEUE_URL": readings.QueueUrl(), "STRATEGY": jsii.String(string(strategy)),
		"DELAY_SECONDS": jsii.String(fmt.Sprint(delay)),
	}
	d.monitor = golambda.NewFunction(this, jsii.String("Monitor"), &golambda.FunctionProps{Package: golambda.Handler("monitor"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Counts created objects per data set"), Timeout: awscdk.Duration_Seconds(jsii.Number(60))}})
	for k, v := range env {
		d.monitor.AddEnvironment(jsii.String(k), v, nil)
	}
	// The watches name their buckets by token: substitute them in the JSON.
	subs := map[string]*string{}
	for i, w := range props.Watches {
		subs[fmt.Sprint("bucket", i)] = w.Bucket.BucketName()
	}
	d.monitor.AddEnvironment(jsii.String("WATCHES"), awscdk.Fn_Sub(jsii.String(string(watchJSON)), &subs), nil)
	d.monitor.AddEventSource(awslambdaeventsources.NewSqsEventSource(objects, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(100), MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(10)), ReportBatchItemFailures: jsii.Bool(true),
	}))

	d.fn = golambda.NewFunction(this, jsii.String("Observer"), &golambda.FunctionProps{Package: golambda.Handler("observer"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Reads data set counters and announces complete data sets"), Timeout: awscdk.Duration_Seconds(jsii.Number(60))}})
	for k, v := range env {
		d.fn.AddEnvironment(jsii.String(k), v, nil)
	}
	d.fn.AddEnvironment(jsii.String("UNCHANGED"), jsii.String(fmt.Sprint(unchanged)), nil)
	d.fn.AddEnvironment(jsii.String("MAX_WAIT_SECONDS"), jsii.String(fmt.Sprint(maxWait)), nil)
	d.fn.AddEnvironment(jsii.String("EVENT_BUS"), d.bus.EventBusName(), nil)
	d.fn.AddEnvironment(jsii.String("TOPIC_ARN"), d.topic.TopicArn(), nil)
	d.fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(readings, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(10), ReportBatchItemFailures: jsii.Bool(true),
	}))
	d.bus.GrantPutEventsTo(d.fn, nil)
	d.topic.GrantPublish(d.fn)

	for _, fn := range []awslambda.Function{d.monitor, d.fn} {
		awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
			Grantee: fn, Actions: jsii.Strings("dynamodb:UpdateItem", "dynamodb:GetItem"), ResourceArns: &[]*string{d.table.TableArn()},
		})
		readings.GrantSendMessages(fn)
		cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("Serverless-LambdaDLQ"), Reason: jsii.String("Invoked synchronously by its SQS event source mapping; failed messages go to the queue's own dead-letter queue."),
		}}, jsii.Bool(false))
		cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("Serverless-LambdaEventSourceMappingDestination"), Reason: jsii.String("An SQS event source mapping takes no on-failure destination; the queue's dead-letter queue (after 5 receives) is where failed messages go."),
		}}, jsii.Bool(true))
	}
	return d
}

// queuePair makes an encrypted, TLS-only queue with a dead-letter queue after 5 receives.
func queuePair(scope constructs.Construct, id string, visibility float64) (awssqs.Queue, awssqs.Queue) {
	dlq := awssqs.NewQueue(scope, jsii.String(id+"DeadLetters"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(dlq, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("Serverless-SQSRedrivePolicy"), Reason: jsii.String("This queue is itself a dead-letter queue: operators read it; it has nowhere further to redrive to."),
	}}, jsii.Bool(false))
	q := awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibility)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(5)},
	})
	return q, dlq
}

func seconds(d awscdk.Duration, def float64) float64 {
	if d == nil {
		return def
	}
	return *d.ToSeconds(nil)
}

func check(where, field string, v, min, max float64, unit string) {
	if v < min || v > max || v != math.Trunc(v) {
		panic(fmt.Sprintf("%s: %s is %v%s; it must be a whole number from %v to %v%s", where, field, v, unit, min, max, unit))
	}
}

func (d *deployed) Table() awsdynamodb.Table             { return d.table }
func (d *deployed) Topic() awssns.Topic                  { return d.topic }
func (d *deployed) EventBus() awsevents.IEventBus        { return d.bus }
func (d *deployed) Monitor() awslambda.Function          { return d.monitor }
func (d *deployed) ObserverFunction() awslambda.Function { return d.fn }
