// Package mapping manages Lambda event source mappings of Kinesis streams for the Custom::EventlakeSubscription
// custom resource (see constructs/subscription and lambdas/mapper).
//
// CloudFormation's own AWS::Lambda::EventSourceMapping fails whole stacks with LimitExceededException when many
// mappings are made on one stream at once. The mapper makes the same mappings through the Lambda API, retrying rate
// limits and server errors with capped, jittered exponential backoff (the SDK's retryer, configured by [NewRetryer])
// for as long as the function's deadline allows. It knows a rate limit by its error code, by HTTP 429, or by the
// wording of the message: Lambda reports the Kinesis stream's rate limit inside an InvalidParameterValueException
// ("... Error Code: LimitExceededException ..." or "... Rate exceeded for stream ..."). Any other
// InvalidParameterValueException fails at once, with its message.
//
// The mapper is idempotent: a Create that finds the same function and source already mapped adopts that mapping; a
// Delete of a mapping that is gone succeeds. It answers only once the mapping has settled (no longer Creating,
// Enabling, Updating, Disabling or Deleting).
//
// Every property arrives from CloudFormation as a string: [ParseProperties] parses them with errors that name the
// property, its value and the limit.
//
// Event source mappings for Kinesis: https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
package mapping
