package contract

// SubscriptionResourceType is the CloudFormation type of the custom resource that owns a subscription's event source
// mapping, made by constructs/subscription and handled by lambdas/mapper (package mapping).
const SubscriptionResourceType = "Custom::EventlakeSubscription"

// The properties of a [SubscriptionResourceType] resource: the settings of a Lambda event source mapping of a Kinesis
// stream, under the names of AWS::Lambda::EventSourceMapping. CloudFormation sends every scalar as a string.
const (
	// PropFunctionName is the function's name or ARN, an alias or version ARN included. Required.
	PropFunctionName = "FunctionName"
	// PropEventSourceArn is the stream's ARN, or a stream consumer's ARN for enhanced fan-out. Required.
	PropEventSourceArn = "EventSourceArn"
	// PropBatchSize is the most records per invocation, [MinBatchSize] to [MaxBatchSize].
	PropBatchSize = "BatchSize"
	// PropMaximumBatchingWindowInSeconds is how long to gather records, 0 to [MaxBatchingWindowSeconds].
	PropMaximumBatchingWindowInSeconds = "MaximumBatchingWindowInSeconds"
	// PropStartingPosition is TRIM_HORIZON, LATEST or AT_TIMESTAMP.
	PropStartingPosition = "StartingPosition"
	// PropStartingPositionTimestamp goes with AT_TIMESTAMP: RFC 3339 or epoch seconds.
	PropStartingPositionTimestamp = "StartingPositionTimestamp"
	// PropParallelizationFactor is how many batches of a shard run at once, [MinParallelization] to
	// [MaxParallelization].
	PropParallelizationFactor = "ParallelizationFactor"
	// PropBisectBatchOnFunctionError splits a failing batch in two.
	PropBisectBatchOnFunctionError = "BisectBatchOnFunctionError"
	// PropMaximumRetryAttempts is -1 (infinite) to [MaxRetryAttempts].
	PropMaximumRetryAttempts = "MaximumRetryAttempts"
	// PropMaximumRecordAgeInSeconds is -1 (infinite) or [MinRecordAgeSeconds] to [MaxRecordAgeSeconds].
	PropMaximumRecordAgeInSeconds = "MaximumRecordAgeInSeconds"
	// PropOnFailureDestination is the ARN of an SQS queue, SNS topic or S3 bucket.
	PropOnFailureDestination = "OnFailureDestination"
	// PropReportBatchItemFailures lets the function report the first record it failed.
	PropReportBatchItemFailures = "ReportBatchItemFailures"
	// PropFilterPatterns are the JSON filter patterns of the mapping's filter criteria.
	PropFilterPatterns = "FilterPatterns"
	// PropTumblingWindowInSeconds aggregates state over windows, 0 to [MaxTumblingWindowSeconds].
	PropTumblingWindowInSeconds = "TumblingWindowInSeconds"
	// PropEnabled: a disabled mapping reads nothing.
	PropEnabled = "Enabled"
	// PropMetrics are the mapping's metrics, such as "EventCount".
	PropMetrics = "Metrics"
)

// SubscriptionProperties lists every property a [SubscriptionResourceType] resource accepts, besides those
// CloudFormation adds itself (ServiceToken, ServiceTimeout).
var SubscriptionProperties = []string{
	PropFunctionName, PropEventSourceArn, PropBatchSize, PropMaximumBatchingWindowInSeconds, PropStartingPosition,
	PropStartingPositionTimestamp, PropParallelizationFactor, PropBisectBatchOnFunctionError, PropMaximumRetryAttempts,
	PropMaximumRecordAgeInSeconds, PropOnFailureDestination, PropReportBatchItemFailures, PropFilterPatterns,
	PropTumblingWindowInSeconds, PropEnabled, PropMetrics,
}

// Limits of a Kinesis event source mapping.
const (
	// MinBatchSize is the fewest records per invocation.
	MinBatchSize = 1
	// MaxBatchSize is the most records per invocation.
	MaxBatchSize = 10000
	// MaxBatchingWindowSeconds is the longest batching window.
	MaxBatchingWindowSeconds = 300
	// MinParallelization is the fewest batches of one shard processed at once.
	MinParallelization = 1
	// MaxParallelization is the most batches of one shard processed at once.
	MaxParallelization = 10
	// MaxRetryAttempts is the most retries of a batch (-1 retries for ever).
	MaxRetryAttempts = 10000
	// MinRecordAgeSeconds is the shortest maximum record age (-1 keeps records for ever).
	MinRecordAgeSeconds = 60
	// MaxRecordAgeSeconds is the longest maximum record age: 7 days.
	MaxRecordAgeSeconds = 604800
	// MaxTumblingWindowSeconds is the longest tumbling window.
	MaxTumblingWindowSeconds = 900
)
