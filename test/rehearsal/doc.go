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
// The tests take the assembly from $EVENTLAKE_ASSEMBLY ([AssemblyDir]); `make test` sets it to the cdk.out it has just
// synthesized.
package rehearsal
