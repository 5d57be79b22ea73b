package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/eventlake/eventlake/pipeline"
	"github.com/eventlake/eventlake/test/fault"
	"github.com/eventlake/eventlake/test/moto"
)

func TestStarterReportsAFailedStartNamingTheExecutionAndTheDataSet(t *testing.T) {
	// GIVEN a state machine whose every start fails with Step Functions' 500, retries included
	cfg := moto.Config(t)
	ctx := context.Background()
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprint("sm-", time.Now().UnixNano())),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := sfn.NewFromConfig(cfg).CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(fmt.Sprint("process-", time.Now().UnixNano())),
		RoleArn: role.Role.Arn, Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	down := &fault.Injector{Operation: "StartExecution", Fault: fault.JSONError(500, "InternalServerError", "internal failure")}
	sc := sfn.NewFromConfig(cfg, func(o *sfn.Options) {
		o.APIOptions = append(o.APIOptions, down.Install)
		o.RetryMaxAttempts = 2
	})
	s := &pipeline.Starter{SFN: sc, StateMachineARN: *sm.StateMachineArn}

	// WHEN a data set is ready
	_, err = s.Handle(ctx, ready("lake/events/2026/11/21/09/", 1))

	// THEN the handler fails, so that EventBridge's delivery is retried, naming the execution, the data set and the
	// service's error
	var api smithy.APIError
	want := "start lake-events-2026-11-21-09--c1 for lake/events/2026/11/21/09/: "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &api) || api.ErrorCode() != "InternalServerError" {
		t.Errorf("error %v, want it to start %q and wrap the InternalServerError", err, want)
	}
	if down.Injected() == 0 {
		t.Fatal("no start reached Step Functions")
	}
	// AND no execution exists: the retried delivery will start it
	list, err := sc.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
	if err != nil || len(list.Executions) != 0 {
		t.Errorf("executions %v (%v), want none", list, err)
	}
}
