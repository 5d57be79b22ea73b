// Package rehearsal is the deploy rehearsal (issue 10): the synthesized blueprint — the CloudFormation templates and
// assets of a cdk.out directory — deployed for a test in moto server, with IAM enforced, and each Lambda function run
// from its own arm64 bootstrap under qemu-aarch64-static with its template environment and its execution role's
// credentials.
//
// [Start] does it all for a test: an IAM-enforcing moto server of the rehearsal's own ([StartMoto]), the assembly's
// data resources and roles materialized in it (package cfn), and every function ready to invoke (package lambdart),
// behind the rehearsal's IAM gate and a Lambda API front over the functions:
//
//	r := rehearsal.Start(t, rehearsal.AssemblyDir(t))
//	fn := r.Function("EventlakeStore", "EventStoreWriterD204937F")
//	out, err := fn.Invoke(ctx, kinesisEvent)
//	// a request IAM refused fails the test at its end, naming the function, the action and the resource
//
// How IAM is enforced. moto, once enforcing, requires every request to be signed with credentials it issued and
// allowed by the identity's policies; it matches statements' resources only for S3, SQS, IAM and STS and checks every
// other service's action against "*". The rehearsal therefore gives moto the roles' policies widened to "*" for the
// other services (keeping S3 and SQS statements as they are) and checks, in its gate in front of moto, each function
// request of those services against the policies as written: the action on the resource the request names. Before
// anything runs it also requires every resource a function's policy names to be a resource of the templates or a
// documented wildcard, and every function role to trust lambda.amazonaws.com. Refusals, by moto or by the gate, are
// [Denial]s.
//
// moto's other limits the gate works around: it fails (500) on a trust policy with a service principal, so the
// function roles are made assumable by the admin user once their trust in lambda.amazonaws.com is checked; it checks
// signatures over S3 queries and keys with some escapes decoded, refusing any ListObjectsV2 by a prefix with a slash,
// so the gate verifies such requests of the credentials it issued and signs them again as moto reads them; and it
// answers refusals in XML whatever the protocol, so the gate turns those of JSON services into the
// AccessDeniedException the SDK reads (and those of Lambda into Lambda's JSON).
//
// Lambda's event source mapping API, which the subscriptions' mapper calls, needs more of the same. moto signs a
// request without a body over the form encoding of its query instead of the empty body, so it refuses every signed
// GET and DELETE: the gate verifies them and signs them again as moto reads them. moto creates a mapping only for a
// function of its own Lambda backend, so [Start] creates every function of the templates there too (name, role,
// runtime, handler, architecture, timeout, memory, and a placeholder zip moto never runs: the Lambda front answers
// every invocation). moto refuses an enhanced fan-out consumer as a mapping's source, so the gate makes such a mapping
// on the consumer's stream once moto confirms the consumer exists, and names the consumer as its source in every
// answer. And moto answers the update or delete of an unknown mapping with success, so the gate answers it as Lambda
// does, 404 ResourceNotFoundException. Each workaround has a test that fails once moto no longer needs it
// (TestS3Escapes, TestLambdaForMoto).
//
// What the rehearsal drives, package sources emulates (Lambda's pollers of Kinesis, DynamoDB streams and SQS,
// Firehose, EventBridge's delivery to targets moto cannot reach), and package customres runs custom resources as
// CloudFormation does. The scenarios of a deploy, from producer to pipeline, to the stores, and to a replay, are the
// tests of packages scenario/lake and scenario/store, and this package's subscriptions, bad-input and grant tests.
//
// The tests take the assembly from $EVENTLAKE_ASSEMBLY ([AssemblyDir]); `make test` sets it to the cdk.out it has just
// synthesized.
package rehearsal
