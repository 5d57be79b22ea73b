// Package golambda turns a Go handler package into an AWS Lambda function: provided.al2023 on arm64, with its
// bootstrap built locally at synth time (no Docker) by
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -buildvcs=false -ldflags "-s -w -buildid="
//
// The asset hash is computed from the sources that go into the binary — the handler's package and every package it
// depends on, by file content for packages of the handler's own module (or a local replace) and by module version for
// everything from the module cache — so the same sources give the same hash on every machine, and snapshots and
// deploys don't churn. It does not depend on absolute paths or on the Go toolchain's build ids.
//
// Handlers are built from the module that holds them. The eventlake handlers are built from the eventlake module
// itself, even when eventlake is a dependency in the module cache (read-only is fine: only the output is written), so
// a consuming module needs nothing in its go.sum for them. A consumer's own handlers are built from the consumer's
// module (the working directory, or [FunctionProps.ModuleDir]).
//
// Bundling follows the CDK's own switch: with the context key aws:cdk:bundling-stacks set to an empty list (see
// [SkipBundling]) no binary is built, which keeps template and snapshot tests fast; the asset hash is the same either
// way.
//
// Lambda Go runtime: https://docs.aws.amazon.com/lambda/latest/dg/lambda-golang.html
package golambda
