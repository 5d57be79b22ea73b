// Package eventstore provides the event store (docs/design.md, part 5): a DynamoDB table fed by a Go writer function
// subscribed to the event stream, keeping every event beyond the stream's retention. The key design is package
// eventstore's (the runtime package of the same name): entity order, a write-sharded time index, idempotent keys,
// oversized events by reference in S3.
package eventstore

import (
	"fmt"
	"math"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/golambda"
	"github.com/eventlake/eventlake/constructs/internal/buckets"
	"github.com/eventlake/eventlake/constructs/subscription"
	"github.com/eventlake/eventlake/contract"
)

// EventStoreProps configures [NewEventStore].
type EventStoreProps struct {
	// Stream is the event stream. Required.
	Stream awskinesis.IStream
	// Shards is the number of write shards of the time index per hour (1 to 256). Default 16.
	Shards *float64
	// Tier is the writer's subscription tier. Default Standard.
	Tier subscription.Tier
	// WriterOptions override the writer function's settings.
	WriterOptions *awslambda.FunctionOptions
	// Subscription overrides the writer's subscription settings (Stream, Function and Tier are set here).
	Subscription *subscription.SubscriptionProps
}

// EventStore is the event store.
type EventStore interface {
	constructs.Construct
	// Table is the event store table.
	Table() awsdynamodb.Table
	// PayloadBucket keeps events too large for an item.
	PayloadBucket() awss3.Bucket
	// Writer stores the stream's events.
	Writer() awslambda.Function
	// Subscription subscribes the writer to the stream.
	Subscription() subscription.Subscription
	// GrantRead lets grantee read the table, its time index and the payloads (what package eventstore's Reader needs).
	GrantRead(grantee awsiam.IGrantable)
}

type store struct {
	constructs.Construct
	table  awsdynamodb.Table
	bucket awss3.Bucket
	writer awslambda.Function
	sub    subscription.Subscription
}

// NewEventStore creates the event store.
func NewEventStore(scope constructs.Construct, id *string, props *EventStoreProps) EventStore {
	where := "eventstore " + *id
	if props == nil || props.Stream == nil {
		panic(where + ": EventStoreProps.Stream is required")
	}
	shards := float64(contract.DefaultShards)
	if props.Shards != nil {
		shards = *props.Shards
	}
	if shards < contract.MinShards || shards > contract.MaxShards || shards != math.Trunc(shards) {
		panic(fmt.Sprintf("%s: Shards is %v; it must be a whole number from %d to %d", where, shards, contract.MinShards, contract.MaxShards))
	}
	this := constructs.NewConstruct(scope, id)
	s := &store{Construct: this}
	str := awsdynamodb.AttributeType_STRING
	s.table = awsdynamodb.NewTable(this, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(contract.EventStoreAttrPK), Type: str},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(contract.EventStoreAttrSK), Type: str},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
	s.table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(contract.EventStoreTimeIndex),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String(contract.EventStoreAttrTimePK), Type: str},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(contract.EventStoreAttrTimeSK), Type: str},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	logs := buckets.AccessLogs(this, "PayloadAccessLogs", "the payload bucket's")
	s.bucket = awss3.NewBucket(this, jsii.String("Payloads"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, EnforceSSL: jsii.Bool(true), BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Versioned: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	buckets.LogAccess(s.bucket, logs, "")

	opts := awslambda.FunctionOptions{}
	if props.WriterOptions != nil {
		opts = *props.WriterOptions
	}
	if opts.Description == nil {
		opts.Description = jsii.String("Stores the event stream's events in the event store")
	}
	if opts.Timeout == nil {
		opts.Timeout = awscdk.Duration_Seconds(jsii.Number(120))
	}
	s.writer = golambda.NewFunction(this, jsii.String("Writer"), &golambda.FunctionProps{Package: golambda.Handler("eventstorewriter"), Options: &opts})
	cfg := contract.EventStore{Table: *s.table.TableName(), PayloadBucket: *s.bucket.BucketName(), Shards: int(shards)}
	for k, v := range cfg.Env() {
		s.writer.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: s.writer, Actions: jsii.Strings("dynamodb:BatchWriteItem", "dynamodb:PutItem"), ResourceArns: &[]*string{s.table.TableArn()},
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: s.writer, Actions: jsii.Strings("s3:PutObject"), ResourceArns: jsii.Strings(*s.bucket.ArnForObjects(jsii.String("payloads/*"))),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.writer, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("Serverless-LambdaDLQ"), Reason: jsii.String("Invoked synchronously by its event source mapping, which sends failed batches to the subscription's on-failure destination; a DLQ applies to asynchronous invocations only."),
	}}, jsii.Bool(false))
	cdknag.NagSuppressions_AddResourceSuppressions(s.writer.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("The writer puts oversized events under payloads/ of its own payload bucket, at keys derived from each event's stream position."),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String("/^Resource::<.*Payloads[0-9A-F]{8}\\.Arn>\\/payloads\\/\\*$/")}},
	}}, jsii.Bool(true))

	sp := subscription.SubscriptionProps{}
	if props.Subscription != nil {
		sp = *props.Subscription
	}
	sp.Stream, sp.Function, sp.Tier = props.Stream, s.writer, props.Tier
	s.sub = subscription.NewSubscription(this, jsii.String("Subscription"), &sp)
	return s
}

func (s *store) Table() awsdynamodb.Table                { return s.table }
func (s *store) PayloadBucket() awss3.Bucket             { return s.bucket }
func (s *store) Writer() awslambda.Function              { return s.writer }
func (s *store) Subscription() subscription.Subscription { return s.sub }
func (s *store) GrantRead(g awsiam.IGrantable) {
	s.table.GrantReadData(g)
	s.bucket.GrantRead(g, jsii.String("payloads/*"))
}
