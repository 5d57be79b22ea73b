// Package sources drives the deploy rehearsal's functions from their event sources, doing what AWS's services would
// do for them: moto server does not run Lambda event source mappings for a Go bootstrap (its Docker-free Lambda polls
// no Kinesis stream, SQS queue or DynamoDB stream) nor Firehose deliveries. Each driver reads the source from moto,
// builds the exact event the service sends, invokes the function through an Invoker (a *lambdart.Function runs the
// function's own arm64 bootstrap under qemu; tests use fakes) and handles the answer as the service does.
//
//   - Kinesis: a Kinesis event source mapping (AWS::Lambda::EventSourceMapping, or eventlake's
//     Custom::EventlakeSubscription): batches per shard in order, filters on data, partial batch failures,
//     bisection, retries, record age, on-failure destination.
//   - DynamoDB: a DynamoDB Streams event source mapping (the micro store's trigger): the same, with the
//     DynamoDB record and filters on the whole record (eventName INSERT).
//   - SQS: an SQS event source mapping: batches, partial batch failures, deletes what succeeded and leaves the rest
//     to moto's visibility timeout and redrive policy.
//   - DelayFront: stands where SQS is for a function that sends delayed messages (the observer's delay loop, up to
//     900 s) and shortens their delays, since moto keeps delayed messages for the real time asked.
//   - Firehose: a delivery stream with a Kinesis source, a Lambda transformation and an S3 destination: the
//     transformation's event and its retries, the object layout, compression and error output Firehose writes.
//   - EventBridge: the delivery moto cannot do (its PutEvents fails on a Lambda target): the targets of the
//     templates' rules that are Lambda functions, SNS topics or carry an input customization are relayed through
//     queues of the driver and delivered as EventBridge would (the event's form, Input, InputPath,
//     InputTransformer, Lambda's asynchronous retries, the dead-letter queue); schedule rules are taken out of moto's
//     PutEvents delivery (moto hands them every event) and fired on their cron by Schedule.
//
// Every driver has a Drain method that processes until its source has nothing more to give (the SQS driver also
// waits for messages in flight or delayed), and counters for tests. Each driver's documentation lists exactly what
// it emulates and what it does not. Settings are read from a template's resolved properties
// (cfn.Deployment.Properties) by KinesisSettingsFrom, DynamoDBSettingsFrom, SQSSettingsFrom and
// FirehoseSettingsFrom.
//
// Time: batching and buffering windows are never waited for (Drain acts as if they had elapsed). Where the rehearsal
// would otherwise wait in real time, options compress it: WithClock ages stream records, WithFailedVisibility makes
// failed SQS messages visible again sooner, and a DelayFront shortens message delays. Firehose.SetArrivalClock moves
// records to another arrival time (the lake is partitioned by arrival, and moto stamps the real time), so a test can
// write past hours of the lake.
package sources
