// Package microstore provides a service's micro event store (docs/design.md, part 6): a DynamoDB table (hash key, range
// key, TTL, stream of new images), a Go listener subscribed to the event stream that stores the events whose type
// matches the service's patterns, and the service's own trigger function on the table's stream (INSERTs only).
package microstore

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/subscription"
	"github.com/eventlake/eventlake/contract"
)

// MaxStreamReaders is how many functions DynamoDB lets read one table stream at once.
const MaxStreamReaders = 2

// MicroStoreProps configures [NewMicroStore].
type MicroStoreProps struct {
	// Stream is the event stream. Required.
	Stream awskinesis.IStream
	// Types are the event types the service keeps: exact, or globs such as "order-*". Required.
	Types []string
	// KeyField is the event field to key by (a correlation key). Default "partitionKey" (contract.DefaultKeyField).
	KeyField *string
	// RetentionDays sets each event's TTL from its timestamp (1 to 3,650). Default 33.
	RetentionDays *float64
	// Trigger is the service's function, run with each touched key's history. Optional: see AddTrigger.
	Trigger awslambda.IFunction
	// Tier is the listener's subscription tier. Default Standard.
	Tier subscription.Tier
}

// MicroStore is one service's micro event store.
type MicroStore interface {
	constructs.Construct
	// Table is the store's table.
	Table() awsdynamodb.Table
	// Listener stores the matching events.
	Listener() awslambda.Function
	// Subscription subscribes the listener to the stream.
	Subscription() subscription.Subscription
	// AddTrigger attaches fn to the table's stream (INSERTs only) and lets it read the table. A table stream serves
	// at most two readers: a third panics.
	AddTrigger(id string, fn awslambda.IFunction)
}

type store struct {
	constructs.Construct
	table    awsdynamodb.Table
	listener awslambda.Function
	sub      subscription.Subscription
	readers  int
	failures awssqs.Queue
}

// NewMicroStore creates the micro event store.
func NewMicroStore(scope constructs.Construct, id *string, props *MicroStoreProps) MicroStore {
	where := "microstore " + *id
	if props == nil || props.Stream == nil {
		panic(where + ": MicroStoreProps.Stream is required")
	}
	if len(props.Types) == 0 {
		panic(where + ": MicroStoreProps.Types is required: the event types the service keeps (exact, or globs such as \"order-*\")")
	}
	for i, t := range props.Types {
		if t == "" || strings.Contains(t, contract.TypesSeparator) {
			panic(fmt.Sprintf("%s: Types[%d] %q must be a non-empty type or glob without commas", where, i, t))
		}
	}
	keyField := contract.DefaultKeyField
	if props.KeyField != nil {
		keyField = *props.KeyField
	}
	if !contract.KeyFieldPattern.MatchString(keyField) {
		panic(fmt.Sprintf("%s: KeyField %q must be an event field name", where, keyField))
	}
	days := float64(contract.DefaultRetentionDays)
	if props.RetentionDays != nil {
		days = *props.RetentionDays
	}
	if days < contract.MinRetentionDays || days > contract.MaxRetentionDays || days != math.Trunc(days) {
		panic(fmt.Sprintf("%s: RetentionDays is %v; it must be a whole number from %d to %d", where, days, contract.MinRetentionDays, contract.MaxRetentionDays))
	}

	this := constructs.NewConstruct(scope, id)
	s := &store{Construct: this}
	str := awsdynamodb.AttributeType_STRING
	s.table = awsdynamodb.NewTable(this, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(contract.MicroStoreAttrKey), Type: str},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(contract.MicroStoreAttrPos), Type: str},
		TimeToLiveAttribute:              jsii.String(contract.MicroStoreAttrTTL),
		Stream:                           awsdynamodb.StreamViewType_NEW_IMAGE,
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	s.listener = golambda.NewFunction(this, jsii.String("Listener"), &golambda.FunctionProps{
		Package: golambda.Handler("microlistener"),
		Options: &awslambda.FunctionOptions{Description: jsii.String("Stores the events this service keeps in its micro event store")},
	})
	listener := contract.MicroListener{Table: *s.table.TableName(), Types: props.Types, KeyField: keyField, RetentionDays: int(days)}
	for k, v := range listener.Env() {
		s.listener.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: s.listener, Actions: jsii.Strings("dynamodb:BatchWriteItem", "dynamodb:PutItem"), ResourceArns: &[]*string{s.table.TableArn()},
	})
	suppressDLQ(s.listener, "its event source mapping, which sends failed batches to the subscription's on-failure destination")
	s.sub = subscription.NewSubscription(this, jsii.String("Subscription"), &subscription.SubscriptionProps{
		Stream: props.Stream, Function: s.listener, Tier: props.Tier, Filters: typeFilters(props.Types),
	})
	if props.Trigger != nil {
		s.AddTrigger("Trigger", props.Trigger)
	}
	return s
}

// typeFilters lets Lambda drop, before invoking the listener, the events whose type no pattern can match: exact
// types and "prefix*" globs become filter rules. Any other glob keeps every event; the listener filters then.
func typeFilters(types []string) *[]*map[string]interface{} {
	var rules []interface{}
	for _, t := range types {
		switch {
		case !strings.ContainsAny(t, "*?[\\"):
			rules = append(rules, t)
		case strings.HasSuffix(t, "*") && !strings.ContainsAny(t[:len(t)-1], "*?[\\"):
			rules = append(rules, map[string]interface{}{"prefix": t[:len(t)-1]})
		default:
			return nil
		}
	}
	return &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{
		"data": map[string]interface{}{"type": rules},
	})}
}

func (s *store) AddTrigger(id string, fn awslambda.IFunction) {
	if s.readers >= MaxStreamReaders {
		panic(fmt.Sprintf("microstore %s: AddTrigger %s would be reader %d of the table's stream; DynamoDB serves at most %d at once", *s.Node().Id(), id, s.readers+1, MaxStreamReaders))
	}
	s.readers++
	if s.failures == nil {
		s.failures = awssqs.NewQueue(s.Construct, jsii.String("TriggerFailures"), &awssqs.QueueProps{
			Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true), RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		})
		cdknag.NagSuppressions_AddResourceSuppressions(s.failures, &[]*cdknag.NagPackSuppression{
			{Id: jsii.String("AwsSolutions-SQS3"), Reason: jsii.String("This queue is the on-failure destination of the trigger's mapping: the last stop of failed batches, read by operators.")},
			{Id: jsii.String("Serverless-SQSRedrivePolicy"), Reason: jsii.String("This queue is the on-failure destination of the trigger's mapping: nothing consumes it, so it has nowhere further to redrive to.")},
		}, jsii.Bool(false))
	}
	s.table.GrantReadData(fn)
	if role, ok := fn.Role().(awsiam.Role); ok {
		cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("Reading the micro store's table stream needs dynamodb:ListStreams, which supports no resource-level permissions; the stream itself is granted by its ARN."),
			AppliesTo: &[]interface{}{jsii.String("Resource::*")},
		}}, jsii.Bool(true))
	}
	if f, ok := fn.(awslambda.Function); ok {
		for k, v := range (contract.MicroTrigger{Table: *s.table.TableName()}).Env() {
			f.AddEnvironment(jsii.String(k), jsii.String(v), nil)
		}
	}
	fn.AddEventSource(awslambdaeventsources.NewDynamoEventSource(s.table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(100),
		BisectBatchOnError:      jsii.Bool(true),
		RetryAttempts:           jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(24)),
		OnFailure:               awslambdaeventsources.NewSqsDlq(s.failures),
		Filters: &[]*map[string]interface{}{awslambda.FilterCriteria_Filter(&map[string]interface{}{
			"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
		})},
	}))
}

func suppressDLQ(fn awslambda.IFunction, by string) {
	cdknag.NagSuppressions_AddResourceSuppressions(fn, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("Serverless-LambdaDLQ"), Reason: jsii.String("Invoked synchronously by " + by + "; a DLQ applies to asynchronous invocations only."),
	}}, jsii.Bool(false))
}

func (s *store) Table() awsdynamodb.Table                { return s.table }
func (s *store) Listener() awslambda.Function            { return s.listener }
func (s *store) Subscription() subscription.Subscription { return s.sub }
