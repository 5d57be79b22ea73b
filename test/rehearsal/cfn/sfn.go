package cfn

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// createStateMachine creates an AWS::StepFunctions::StateMachine with its resolved definition (DefinitionString, or
// Definition serialized, with DefinitionSubstitutions applied), role, type, logging and tracing. Its Ref is its ARN.
func createStateMachine(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	name := m.name(r, p, "StateMachineName", 80, false)
	def := p.str("DefinitionString")
	if p.has("Definition") {
		def = p.jsonDoc("Definition")
	}
	if p.has("DefinitionS3Location") {
		p.ignore("DefinitionS3Location")
		return "", nil, fmt.Errorf("DefinitionS3Location is not supported: the definition must be in the template")
	}
	for k, v := range p.strMap("DefinitionSubstitutions") {
		def = strings.ReplaceAll(def, "${"+k+"}", v)
	}
	in := &sfn.CreateStateMachineInput{
		Name: &name, Definition: &def, RoleArn: p.strp("RoleArn"),
		Type: sfntypes.StateMachineType(p.str("StateMachineType")),
	}
	if lc := p.obj("LoggingConfiguration"); lc != nil {
		cfg := &sfntypes.LoggingConfiguration{
			Level: sfntypes.LogLevel(lc.str("Level")), IncludeExecutionData: aws.ToBool(lc.boolp("IncludeExecutionData")),
		}
		for _, d := range lc.objs("Destinations") {
			if g := d.obj("CloudWatchLogsLogGroup"); g != nil {
				cfg.Destinations = append(cfg.Destinations, sfntypes.LogDestination{
					CloudWatchLogsLogGroup: &sfntypes.CloudWatchLogsLogGroup{LogGroupArn: g.strp("LogGroupArn")},
				})
			}
		}
		in.LoggingConfiguration = cfg
	}
	if tc := p.obj("TracingConfiguration"); tc != nil {
		in.TracingConfiguration = &sfntypes.TracingConfiguration{Enabled: aws.ToBool(tc.boolp("Enabled"))}
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := m.c.sfn.CreateStateMachine(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateStateMachine: %w", err)
	}
	arn := aws.ToString(out.StateMachineArn)
	return arn, map[string]string{"Arn": arn, "Name": name}, nil
}
