package cfn

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// createEventBus creates an AWS::Events::EventBus. Its Ref is its name.
func createEventBus(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	name := p.str("Name")
	in := &eventbridge.CreateEventBusInput{
		Name: &name, EventSourceName: p.strp("EventSourceName"), Description: p.strp("Description"),
		KmsKeyIdentifier: p.strp("KmsKeyIdentifier"),
	}
	if dl := p.obj("DeadLetterConfig"); dl != nil {
		in.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: dl.strp("Arn")}
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := m.c.events.CreateEventBus(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateEventBus: %w", err)
	}
	arn := aws.ToString(out.EventBusArn)
	return name, map[string]string{"Arn": arn, "Name": name}, nil
}

// createRule creates an AWS::Events::Rule (event pattern or schedule) and puts its targets. Its Ref is its name,
// "<bus>|<name>" on a bus other than the default one.
func createRule(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.events
	name := m.name(r, p, "Name", 64, false)
	bus := p.str("EventBusName")
	in := &eventbridge.PutRuleInput{
		Name: &name, Description: p.strp("Description"), ScheduleExpression: p.strp("ScheduleExpression"),
		State: ebtypes.RuleState(p.str("State")), RoleArn: p.strp("RoleArn"),
	}
	if bus != "" {
		in.EventBusName = &bus
	}
	if p.has("EventPattern") {
		in.EventPattern = aws.String(p.jsonDoc("EventPattern"))
	}
	targets := make([]ebtypes.Target, 0)
	for _, t := range p.objs("Targets") {
		tg := ebtypes.Target{
			Id: t.strp("Id"), Arn: t.strp("Arn"), RoleArn: t.strp("RoleArn"), Input: t.strp("Input"),
			InputPath: t.strp("InputPath"),
		}
		if it := t.obj("InputTransformer"); it != nil {
			tg.InputTransformer = &ebtypes.InputTransformer{
				InputTemplate: it.strp("InputTemplate"), InputPathsMap: it.strMap("InputPathsMap"),
			}
		}
		if dl := t.obj("DeadLetterConfig"); dl != nil {
			tg.DeadLetterConfig = &ebtypes.DeadLetterConfig{Arn: dl.strp("Arn")}
		}
		if rp := t.obj("RetryPolicy"); rp != nil {
			tg.RetryPolicy = &ebtypes.RetryPolicy{
				MaximumEventAgeInSeconds: rp.int32p("MaximumEventAgeInSeconds"),
				MaximumRetryAttempts:     rp.int32p("MaximumRetryAttempts"),
			}
		}
		if sp := t.obj("SqsParameters"); sp != nil {
			tg.SqsParameters = &ebtypes.SqsParameters{MessageGroupId: sp.strp("MessageGroupId")}
		}
		if kp := t.obj("KinesisParameters"); kp != nil {
			tg.KinesisParameters = &ebtypes.KinesisParameters{PartitionKeyPath: kp.strp("PartitionKeyPath")}
		}
		targets = append(targets, tg)
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.PutRule(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("PutRule: %w", err)
	}
	if len(targets) > 0 {
		tin := &eventbridge.PutTargetsInput{Rule: &name, Targets: targets}
		if bus != "" {
			tin.EventBusName = &bus
		}
		res, err := c.PutTargets(ctx, tin)
		if err != nil {
			return "", nil, fmt.Errorf("PutTargets: %w", err)
		}
		for _, f := range res.FailedEntries {
			m.gap(r, "target %s: %s %s", aws.ToString(f.TargetId), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage))
		}
	}
	ref := name
	if bus != "" && bus != "default" && !strings.HasSuffix(bus, ":event-bus/default") {
		busName := bus[strings.LastIndex(bus, "/")+1:]
		ref = busName + "|" + name
	}
	return ref, map[string]string{"Arn": aws.ToString(out.RuleArn)}, nil
}
