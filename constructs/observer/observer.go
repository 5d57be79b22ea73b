// Package observer deploys the data-set observer (docs/design.md, part 7; runtime in package observer): S3 "Object
// Created" events of the watched buckets, through EventBridge and a queue, to a monitor that counts them per data set
// into a DynamoDB table; an observer on an SQS loop that announces complete data sets as DataSetReady events on
// EventBridge and on an SNS topic.
//
// Watched buckets must send their events to EventBridge (a datalake's bucket does by default).
//
// The monitor counts each object once, however often EventBridge and SQS deliver its event: it remembers what it
// counted in marker items of the counter table, which expire (the table's time to live, attribute expiresAt) MaxWait
// plus 14 days after they were written. See the runtime package's Monitor for the rules (an overwrite is a change).
//
// A watch with Expect also expects its data sets on a schedule, so that a data set that never arrives is announced:
// see [ExpectProps].
package observer

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/contract"
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
	// Expect, when set, expects the watch's data sets on a schedule, before their first object. Default: off.
	Expect *ExpectProps
}

// DefaultExpectLayout is the layout of the data lake's hours under its prefix: YYYY/MM/DD/HH/.
const DefaultExpectLayout = "2006/01/02/15/"

// ExpectProps make a watch expect its data sets on a schedule: an EventBridge rule (the CDK L2, no custom resource)
// sends the monitor's queue an expectation at each time of Schedule, and the monitor starts an observation of the data
// set it names — the watch's bucket and Prefix, followed by the schedule's time in Layout (UTC) — unless that data set
// has been seen already (an object counted, an observation started, an earlier expectation). A data set that gets no
// object within MaxWait then ends in exactly one DataSetTimedOut of 0 objects; one whose objects arrive completes
// normally, once. Redeliveries of the schedule's event name the same data set (its time is the event's) and start
// nothing.
//
// The defaults fit the data lake, whose objects lie under Prefix in YYYY/MM/DD/HH/ (use Depth 4): at minute 5 of each
// hour H (UTC), hour H is expected. Minute 5 is well inside H, so a late or retried schedule event cannot name the
// hour before, and about when the lake's first object of H lands (Firehose buffers up to 300 s), so MaxWait counts
// from about the hour's first object. The first hour expected is the first whose minute 5 comes after deployment.
type ExpectProps struct {
	// Schedule says when to expect a data set. Default: hourly at minute 5, cron(5 * * * ? *) (UTC).
	Schedule awsevents.Schedule
	// Layout is the expected data set's path after the watch's Prefix, as a Go time layout applied to the schedule's
	// time in UTC. It must name one of the watch's data sets: end in "/", and with Depth have exactly Depth segments.
	// Default [DefaultExpectLayout], the lake's hour.
	Layout *string
}

// ObserverProps configures [NewObserver].
type ObserverProps struct {
	// Watches are the watched data sets. Required.
	Watches []*WatchProps
	// Strategy of the delay between readings: contract.Constant, Reciprocal or Exponential (the same type as package
	// observer's Strategy). Default Constant.
	Strategy contract.Strategy
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
		strategy = contract.Constant
	}
	if _, err := contract.ParseStrategy(string(strategy)); err != nil {
		panic(fmt.Sprintf("%s: Strategy: %v", where, err))
	}
	delay := seconds(props.Delay, 30)
	check(where, "Delay", delay, 0, contract.MaxDelaySeconds, " seconds")
	unchanged := 3.0
	if props.Unchanged != nil {
		unchanged = *props.Unchanged
	}
	check(where, "Unchanged", unchanged, contract.MinUnchanged, contract.MaxUnchanged, "")
	maxWait := seconds(props.MaxWait, 86400)
	check(where, "MaxWait", maxWait, contract.MinMaxWaitSeconds, contract.MaxMaxWaitSeconds, " seconds")

	this := constructs.NewConstruct(scope, id)
	d := &deployed{Construct: this, bus: props.EventBus}
	if d.bus == nil {
		d.bus = awsevents.EventBus_FromEventBusName(this, jsii.String("DefaultBus"), jsii.String("default"))
	}
	d.table = awsdynamodb.NewTable(this, jsii.String("Counters"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(contract.ObserverAttrDataSet), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		TimeToLiveAttribute:              jsii.String(contract.ObserverAttrExpiresAt), // the monitor's markers expire; counters have no such attribute
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	// The observer function publishes with the SDK, which the AWS-managed aws/sns key allows without any KMS grant.
	// The key is set on the L1, not as MasterKey: a grant on an imported alias would, under the CDK feature flag
	// @aws-cdk/aws-kms:applyImportedAliasPermissionsToPrincipal, give the publisher KMS actions on every key.
	d.topic = awssns.NewTopic(this, jsii.String("Ready"), &awssns.TopicProps{
		DisplayName: jsii.String("Data sets ready"), EnforceSSL: jsii.Bool(true),
	})
	d.topic.Node().DefaultChild().(awssns.CfnTopic).SetKmsMasterKeyId(awscdk.Stack_Of(this).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("kms"), Resource: jsii.String("alias"), ResourceName: jsii.String("aws/sns"),
	}))

	objects, objectsDLQ := queuePair(this, "ObjectEvents", 360)
	readings, _ := queuePair(this, "Readings", 360)
	var names []*string
	var prefixes []interface{}
	var watches []contract.Watch
	type expectation struct {
		index    int
		bucket   awss3.IBucket
		prefix   string
		layout   string
		schedule awsevents.Schedule
	}
	var expectations []expectation
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
			check(where, fmt.Sprintf("Watches[%d].Depth", i), depth, 0, contract.MaxWatchDepth, "")
		}
		names = append(names, w.Bucket.BucketName())
		prefixes = append(prefixes, map[string]string{"prefix": prefix})
		watches = append(watches, contract.Watch{Bucket: "${bucket" + fmt.Sprint(i) + "}", Prefix: prefix, Depth: int(depth)})
		if w.Expect != nil {
			layout := DefaultExpectLayout
			if w.Expect.Layout != nil {
				layout = *w.Expect.Layout
			}
			checkLayout(where, i, contract.Watch{Bucket: "bucket", Prefix: prefix, Depth: int(depth)}, layout)
			schedule := w.Expect.Schedule
			if schedule == nil {
				schedule = awsevents.Schedule_Cron(&awsevents.CronOptions{Minute: jsii.String("5")})
			}
			expectations = append(expectations, expectation{index: i, bucket: w.Bucket, prefix: prefix, layout: layout, schedule: schedule})
		}
	}
	awsevents.NewRule(this, jsii.String("ObjectCreated"), &awsevents.RuleProps{
		Description: jsii.String("S3 Object Created events of the watched buckets, to the observer's monitor"),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings("aws.s3"), DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]interface{}{"bucket": map[string]interface{}{"name": names}, "object": map[string]interface{}{"key": prefixes}},
		},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(objects, &awseventstargets.SqsQueueProps{DeadLetterQueue: objectsDLQ})},
	})

	// Expectations go to the monitor's queue, as the object events do: retried, dead-lettered, and handled by the
	// monitor, which needs no other permission for them.
	for _, x := range expectations {
		awsevents.NewRule(this, jsii.String(fmt.Sprint("Expect", x.index)), &awsevents.RuleProps{
			Description: jsii.String(fmt.Sprintf("Expects a data set of watch %d (%s…%s) before its first object", x.index, x.prefix, x.layout)),
			Schedule:    x.schedule,
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(objects, &awseventstargets.SqsQueueProps{
				DeadLetterQueue: objectsDLQ,
				Message: awsevents.RuleTargetInput_FromObject(map[string]interface{}{"expect": map[string]interface{}{
					"bucket": x.bucket.BucketName(), "prefix": x.prefix, "layout": x.layout, "time": awsevents.EventField_Time(),
				}}),
			})},
		})
	}

	counters := contract.Counters{Table: *d.table.TableName(), QueueURL: *readings.QueueUrl(), Strategy: strategy,
		Delay: time.Duration(delay) * time.Second}
	// Markers outlive the longest observation and the 14 days a dead-lettered event may wait for a redrive.
	markerTTL := maxWait + 14*86400
	d.monitor = golambda.NewFunction(this, jsii.String("Monitor"), &golambda.FunctionProps{Package: golambda.Handler("monitor"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Counts created objects per data set"), Timeout: awscdk.Duration_Seconds(jsii.Number(60))}})
	monitorEnv := contract.Monitor{Counters: counters, Watches: watches, MarkerTTL: time.Duration(markerTTL) * time.Second}.Env()
	// The watches name their buckets by token: substitute them in the JSON.
	subs := map[string]*string{}
	for i, w := range props.Watches {
		subs[fmt.Sprint("bucket", i)] = w.Bucket.BucketName()
	}
	for k, v := range monitorEnv {
		value := jsii.String(v)
		if k == contract.MonitorWatches {
			value = awscdk.Fn_Sub(value, &subs)
		}
		d.monitor.AddEnvironment(jsii.String(k), value, nil)
	}
	d.monitor.AddEventSource(awslambdaeventsources.NewSqsEventSource(objects, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(100), MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(10)), ReportBatchItemFailures: jsii.Bool(true),
	}))

	d.fn = golambda.NewFunction(this, jsii.String("Observer"), &golambda.FunctionProps{Package: golambda.Handler("observer"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Reads data set counters and announces complete data sets"), Timeout: awscdk.Duration_Seconds(jsii.Number(60))}})
	observerEnv := contract.Observer{Counters: counters, Unchanged: int(unchanged), MaxWait: time.Duration(maxWait) * time.Second,
		EventBus: *d.bus.EventBusName(), TopicARN: *d.topic.TopicArn()}.Env()
	for k, v := range observerEnv {
		d.fn.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
	d.fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(readings, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(10), ReportBatchItemFailures: jsii.Bool(true),
	}))
	d.bus.GrantPutEventsTo(d.fn, nil)
	d.topic.GrantPublish(d.fn)

	// Exactly the table calls each makes. The observer: UpdateItem (claim a step, end, clear an announcement) and
	// GetItem (a duplicate reading). The monitor: TransactWriteItems of marker puts and counter and key-marker updates,
	// UpdateItem (start, expect), GetItem (after a redelivery). A transaction needs the rights of its actions; PutItem
	// only inside one, so the monitor cannot overwrite a counter with a plain put.
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: d.fn, Actions: jsii.Strings("dynamodb:UpdateItem", "dynamodb:GetItem"), ResourceArns: &[]*string{d.table.TableArn()},
	})
	d.monitor.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("dynamodb:UpdateItem", "dynamodb:GetItem"), Resources: &[]*string{d.table.TableArn()},
	}))
	d.monitor.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("dynamodb:PutItem"), Resources: &[]*string{d.table.TableArn()},
		Conditions: &map[string]interface{}{"ForAnyValue:StringEquals": map[string]interface{}{"dynamodb:EnclosingOperation": []string{"TransactWriteItems"}}},
	}))
	for _, fn := range []awslambda.Function{d.monitor, d.fn} {
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

// checkLayout panics unless layout, applied to a time, names one of the watch's data sets.
func checkLayout(where string, i int, w contract.Watch, layout string) {
	probe := time.Date(2026, 11, 21, 9, 5, 0, 0, time.UTC)
	path := probe.Format(layout)
	if layout != "" && strings.HasSuffix(path, "/") && !strings.HasPrefix(path, "/") &&
		contract.DataSetOf([]contract.Watch{w}, w.Bucket, w.Prefix+path+"object") == contract.ExpectedDataSet(w.Bucket, w.Prefix, layout, probe) {
		return
	}
	rule := `a path that ends in "/" (the data set is the object's directory)`
	if w.Depth > 0 {
		rule = fmt.Sprintf(`a path of exactly %d segments (the watch's Depth), each ending in "/"`, w.Depth)
	}
	panic(fmt.Sprintf("%s: Watches[%d].Expect.Layout is %q, which names the path %q at %s; it must name one of the watch's data sets: %s",
		where, i, layout, path, probe.Format(time.RFC3339), rule))
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
