package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/datapipeline"
	dptypes "github.com/aws/aws-sdk-go-v2/service/datapipeline/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/eventlake/eventlake/observer"
	"github.com/eventlake/eventlake/pipeline"
	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }

func ready(dataSet string, completion int64) events.CloudWatchEvent {
	detail, _ := json.Marshal(observer.Announcement{DataSet: dataSet, Objects: 12, Completion: completion})
	return events.CloudWatchEvent{Source: observer.EventSource, DetailType: observer.DataSetReady, Detail: detail}
}

func TestExecutionNames(t *testing.T) {
	if got := pipeline.ExecutionName("lake/events/2026/11/21/09/", 3); got != "lake-events-2026-11-21-09--c3" {
		t.Errorf("name %q", got)
	}
	long := pipeline.ExecutionName(strings.Repeat("a/", 100), 1)
	other := pipeline.ExecutionName(strings.Repeat("a/", 99)+"b/", 1)
	if len(long) > 80 || long == other {
		t.Errorf("long names %q and %q: must fit 80 characters and stay distinct", long, other)
	}
}

func TestStarterStartsOncePerCompletion(t *testing.T) {
	cfg := moto.Config(t)
	ctx := context.Background()
	role, _ := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprint("sm-", time.Now().UnixNano())),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"states.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	sc := sfn.NewFromConfig(cfg)
	sm, err := sc.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(fmt.Sprint("process-", time.Now().UnixNano())), RoleArn: role.Role.Arn,
		Definition: aws.String(`{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	s := &pipeline.Starter{SFN: sc, StateMachineARN: *sm.StateMachineArn}
	object := events.CloudWatchEvent{DetailType: "Object Created", Detail: json.RawMessage(`{"bucket":{"name":"drops"},"object":{"key":"in/a.csv","sequencer":"0A1B"}}`)}
	for _, ev := range []events.CloudWatchEvent{ready("lake/events/2026/11/21/09/", 1), ready("lake/events/2026/11/21/09/", 1), ready("lake/events/2026/11/21/09/", 2), object, object} {
		if _, err := s.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := sc.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
	if len(list.Executions) != 3 {
		t.Fatalf("%d executions, want 3: one per completion, one for the object, none for the duplicates", len(list.Executions))
	}
	inputs := ""
	for _, e := range list.Executions {
		exec, _ := sc.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
		inputs += *exec.Input
	}
	if !strings.Contains(inputs, `"dataSet":"lake/events/2026/11/21/09/"`) || !strings.Contains(inputs, `"dataSet":"drops/in/a.csv"`) {
		t.Errorf("execution inputs %s do not carry the data set and the object", inputs)
	}
	// A duplicate after the execution has ended (moto's executions of this machine never end: they are stopped)
	// gets ExecutionAlreadyExists from Step Functions, which is no error: the hour was started.
	for _, e := range list.Executions {
		if _, err := sc.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: e.ExecutionArn}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Handle(ctx, ready("lake/events/2026/11/21/09/", 1)); err != nil || got != pipeline.ExecutionName("lake/events/2026/11/21/09/", 1) {
		t.Errorf("a duplicate after the end: %q, %v; want the execution's name and no error", got, err)
	}
	if list, _ := sc.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn}); len(list.Executions) != 3 {
		t.Errorf("%d executions after a duplicate, want 3", len(list.Executions))
	}
	if _, err := s.Handle(ctx, events.CloudWatchEvent{DetailType: "Other"}); err == nil {
		t.Error("an event of another type was accepted")
	}
}

// recorder passes calls through to moto, recording their order, and lets a test fail or restate some of them.
type recorder struct {
	pipeline.DataPipelineAPI
	mu         sync.Mutex
	calls      []string
	invalid    bool            // PutPipelineDefinition reports validation errors
	noActivate bool            // ActivatePipeline fails
	finished   map[string]bool // pipeline ids to describe as FINISHED
}

func (r *recorder) note(op string) { r.mu.Lock(); r.calls = append(r.calls, op); r.mu.Unlock() }

func (r *recorder) CreatePipeline(ctx context.Context, in *dp.CreatePipelineInput, o ...func(*dp.Options)) (*dp.CreatePipelineOutput, error) {
	r.note("create")
	return r.DataPipelineAPI.CreatePipeline(ctx, in, o...)
}
func (r *recorder) GetPipelineDefinition(ctx context.Context, in *dp.GetPipelineDefinitionInput, o ...func(*dp.Options)) (*dp.GetPipelineDefinitionOutput, error) {
	r.note("get-definition")
	return r.DataPipelineAPI.GetPipelineDefinition(ctx, in, o...)
}
func (r *recorder) PutPipelineDefinition(ctx context.Context, in *dp.PutPipelineDefinitionInput, o ...func(*dp.Options)) (*dp.PutPipelineDefinitionOutput, error) {
	r.note("put-definition")
	if r.invalid {
		return &dp.PutPipelineDefinitionOutput{Errored: true, ValidationErrors: []dptypes.ValidationError{{Id: aws.String("Schedule"), Errors: []string{"startDateTime is in the past"}}}}, nil
	}
	return r.DataPipelineAPI.PutPipelineDefinition(ctx, in, o...)
}
func (r *recorder) ActivatePipeline(ctx context.Context, in *dp.ActivatePipelineInput, o ...func(*dp.Options)) (*dp.ActivatePipelineOutput, error) {
	r.note("activate")
	if r.noActivate {
		return nil, errors.New("InvalidRequestException: pipeline cannot be activated")
	}
	return r.DataPipelineAPI.ActivatePipeline(ctx, in, o...)
}
func (r *recorder) DeletePipeline(ctx context.Context, in *dp.DeletePipelineInput, o ...func(*dp.Options)) (*dp.DeletePipelineOutput, error) {
	r.note("delete:" + *in.PipelineId)
	return r.DataPipelineAPI.DeletePipeline(ctx, in, o...)
}
func (r *recorder) DescribePipelines(ctx context.Context, in *dp.DescribePipelinesInput, o ...func(*dp.Options)) (*dp.DescribePipelinesOutput, error) {
	out, err := r.DataPipelineAPI.DescribePipelines(ctx, in, o...)
	if err == nil {
		for i, p := range out.PipelineDescriptionList {
			if r.finished[*p.PipelineId] {
				for j, f := range p.Fields {
					if *f.Key == "@pipelineState" {
						out.PipelineDescriptionList[i].Fields[j].StringValue = aws.String("FINISHED")
					}
				}
			}
		}
	}
	return out, err
}

func newAdapter(t *testing.T) (*pipeline.DataPipeline, *recorder, *dp.Client) {
	cfg := moto.Config(t)
	c := dp.NewFromConfig(cfg)
	ctx := context.Background()
	prefix := fmt.Sprintf("clone-%d-", time.Now().UnixNano())
	tmpl, err := c.CreatePipeline(ctx, &dp.CreatePipelineInput{Name: aws.String(prefix + "template"), UniqueId: aws.String(prefix + "template")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.PutPipelineDefinition(ctx, &dp.PutPipelineDefinitionInput{PipelineId: tmpl.PipelineId, PipelineObjects: []dptypes.PipelineObject{
		{Id: aws.String("Default"), Name: aws.String("Default"), Fields: []dptypes.Field{{Key: aws.String("workerGroup"), StringValue: aws.String("wg")}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{DataPipelineAPI: c, finished: map[string]bool{}}
	return &pipeline.DataPipeline{Client: r, TemplateID: *tmpl.PipelineId, NamePrefix: prefix}, r, c
}

func state(t *testing.T, c *dp.Client, id string) string {
	out, err := c.DescribePipelines(context.Background(), &dp.DescribePipelinesInput{PipelineIds: []string{id}})
	if err != nil || len(out.PipelineDescriptionList) == 0 {
		return "deleted"
	}
	for _, f := range out.PipelineDescriptionList[0].Fields {
		if *f.Key == "@pipelineState" {
			return *f.StringValue
		}
	}
	return ""
}

func TestDataPipelineLaunchesOnceInOrder(t *testing.T) {
	d, r, c := newAdapter(t)
	id, launched, err := d.Launch(context.Background(), "lake/events/2026/11/21/09/", 1)
	if err != nil || !launched {
		t.Fatal(launched, err)
	}
	if got := strings.Join(r.calls, ","); got != "create,get-definition,put-definition,activate" {
		t.Errorf("calls %s, want create, get-definition, put-definition, activate", got)
	}
	if s := state(t, c, id); s != "SCHEDULED" {
		t.Errorf("clone state %s, want SCHEDULED", s)
	}
	r.calls = nil
	again, launched, err := d.Launch(context.Background(), "lake/events/2026/11/21/09/", 1)
	if err != nil || launched || again != id || len(r.calls) != 0 {
		t.Errorf("duplicate launch: %s %v %v, calls %v; want the same clone and no call", again, launched, err, r.calls)
	}
}

func TestDataPipelineFailuresDeleteTheClone(t *testing.T) {
	for _, c := range []struct {
		name    string
		set     func(*recorder)
		want    string
		noCalls string
	}{
		{"invalid definition", func(r *recorder) { r.invalid = true }, "fails validation: Schedule: startDateTime is in the past", "activate"},
		{"activation fails", func(r *recorder) { r.noActivate = true }, "activate", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, r, client := newAdapter(t)
			c.set(r)
			id, launched, err := d.Launch(context.Background(), "lake/x/", 1)
			if err == nil || launched || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("launched %v, error %v; want a failure naming %q", launched, err, c.want)
			}
			if state(t, client, id) != "deleted" || !strings.Contains(strings.Join(r.calls, ","), "delete:"+id) {
				t.Errorf("the clone %s was not deleted: calls %v", id, r.calls)
			}
			if c.noCalls != "" && strings.Contains(strings.Join(r.calls, ","), c.noCalls) {
				t.Errorf("calls %v: an invalid definition must never be activated", r.calls)
			}
		})
	}
}

func TestDataPipelineCleansUpFinishedClonesOnEveryPage(t *testing.T) {
	d, r, client := newAdapter(t)
	ctx := context.Background()
	// 60 earlier clones (more than one page of 50): every third finished, the others still running.
	var finished, running []string
	for i := range 60 {
		out, err := client.CreatePipeline(ctx, &dp.CreatePipelineInput{Name: aws.String(fmt.Sprintf("%sold-%d", d.NamePrefix, i)), UniqueId: aws.String(fmt.Sprint(d.NamePrefix, i))})
		if err != nil {
			t.Fatal(err)
		}
		client.ActivatePipeline(ctx, &dp.ActivatePipelineInput{PipelineId: out.PipelineId})
		if i%3 == 0 {
			r.finished[*out.PipelineId] = true
			finished = append(finished, *out.PipelineId)
		} else {
			running = append(running, *out.PipelineId)
		}
	}
	if _, _, err := d.Launch(ctx, "lake/y/", 1); err != nil {
		t.Fatal(err)
	}
	for _, id := range finished {
		if state(t, client, id) != "deleted" {
			t.Errorf("finished clone %s was not deleted", id)
		}
	}
	for _, id := range running {
		if state(t, client, id) == "deleted" {
			t.Errorf("running clone %s was deleted", id)
		}
	}
	if state(t, client, d.TemplateID) == "deleted" {
		t.Error("the template was deleted")
	}
}
