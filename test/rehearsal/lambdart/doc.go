// Package lambdart runs a Lambda function's own deployed binary the way Lambda does, for the deploy rehearsal: the
// function's `bootstrap` (linux/arm64, provided.al2023, built with -tags lambda.norpc) runs under
// qemu-aarch64-static and talks to a stand-in of the Lambda Runtime API on loopback.
//
// The package has three parts:
//
//   - [RuntimeAPI]: the Runtime API an execution environment's runtime polls
//     (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html), as aws-lambda-go's client uses it.
//   - [Function]: one function's execution environment. It starts the bootstrap on the first invocation (a cold
//     start) with exactly the environment the caller gives plus the variables Lambda sets, keeps the process warm
//     between invocations, enforces the function's timeout, restarts the process after a crash or a timeout, and
//     keeps the function's logs.
//   - [Front]: an http.Handler that stands where the Lambda API is (AWS_ENDPOINT_URL_LAMBDA). It runs Invoke calls
//     on the functions of a [Registry] and sends every other Lambda API call to an upstream server (moto).
//
// A typical rehearsal:
//
//	qemu := lambdart.QEMU(t) // fails under CI=true, skips otherwise, when qemu-user-static is missing
//	fn, err := lambdart.NewFunction(lambdart.Config{
//		Name:        "transform",
//		AssetDir:    "cdk.out/asset.0123abcd", // holds bootstrap
//		Timeout:     60 * time.Second,
//		Environment: map[string]string{"TABLE": "events"}, // the template's Environment.Variables, resolved
//		Credentials: lambdart.StaticCredentials("AKID", "SECRET", "TOKEN"),
//		EndpointURL: motoURL,
//		QEMU:        qemu,
//		Echo:        t,
//	})
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(func() { fn.Close() })
//	out, err := fn.Invoke(ctx, []byte(`{"records":[]}`))
//	var fe *lambdart.FunctionError // the handler returned an error or panicked
//	var re *lambdart.RuntimeError  // the process crashed, failed its init or timed out
//
//	front, err := lambdart.NewFront(lambdart.Functions{"transform": fn}, motoURL)
//	if err != nil {
//		t.Fatal(err)
//	}
//	srv := httptest.NewServer(front) // its URL is AWS_ENDPOINT_URL_LAMBDA for the functions and tools
//	t.Cleanup(func() { front.Close(); srv.Close() })
//	// … later: front.Wait() runs out the Event invocations and returns their errors
package lambdart
