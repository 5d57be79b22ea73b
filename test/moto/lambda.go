package moto

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// NewFunction creates a Lambda function named name in moto (with an IAM role for it) and returns its ARN. Its code is
// a placeholder: moto does not run it unless invoked.
func NewFunction(t testing.TB, cfg aws.Config, name string) string {
	t.Helper()
	ctx := context.Background()
	ic := iam.NewFromConfig(cfg)
	roleName := "fn-" + name
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 &roleName,
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatalf("create role for %s: %v", name, err)
	}
	var code bytes.Buffer
	zw := zip.NewWriter(&code)
	w, _ := zw.Create("bootstrap")
	w.Write([]byte("#!/bin/sh\n"))
	zw.Close()
	out, err := lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: &name, Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Code:          &lambdatypes.FunctionCode{ZipFile: code.Bytes()},
	})
	if err != nil {
		t.Fatalf("create function %s: %v", name, err)
	}
	return *out.FunctionArn
}

// LambdaWithoutDocker switches the moto server's Lambda to its Docker-free implementation: an invocation runs no
// code and answers with its own payload, so a RequestResponse answer shows exactly what the function received.
func LambdaWithoutDocker(t testing.TB) {
	t.Helper()
	ep := Endpoint(t)
	resp, err := http.Post(ep+"/moto-api/config", "application/json", strings.NewReader(`{"lambda":{"use_docker":false}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("moto config: %s", resp.Status)
	}
}
