package cfn

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// createRole creates an AWS::IAM::Role with its trust policy, its own inline policies and its managed policies. Its
// Ref is its name.
func createRole(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.iam
	name := m.name(r, p, "RoleName", 64, false)
	in := &iam.CreateRoleInput{
		RoleName: &name, AssumeRolePolicyDocument: aws.String(p.jsonDoc("AssumeRolePolicyDocument")),
		Description: p.strp("Description"), Path: p.strp("Path"), MaxSessionDuration: p.int32p("MaxSessionDuration"),
		PermissionsBoundary: p.strp("PermissionsBoundary"),
	}
	type inline struct{ name, doc string }
	var inlines []inline
	for _, pol := range p.objs("Policies") {
		inlines = append(inlines, inline{pol.str("PolicyName"), pol.jsonDoc("PolicyDocument")})
	}
	managed := p.strs("ManagedPolicyArns")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreateRole(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateRole: %w", err)
	}
	key := resKey{r.Stack, r.LogicalID}
	m.d.roleNames[name] = key
	for _, pol := range inlines {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: &name, PolicyName: &pol.name, PolicyDocument: &pol.doc,
		}); err != nil {
			return "", nil, fmt.Errorf("PutRolePolicy %s: %w", pol.name, err)
		}
		m.d.policies[key] = append(m.d.policies[key], PolicyDocument{Name: pol.name, Document: json.RawMessage(pol.doc)})
	}
	for _, arn := range managed {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &name, PolicyArn: aws.String(arn)}); err != nil {
			m.gap(r, "ManagedPolicyArns %s: AttachRolePolicy: %v", arn, err)
		}
		m.d.policies[key] = append(m.d.policies[key], PolicyDocument{Name: arn, ManagedPolicyARN: arn})
	}
	role := out.Role
	return name, map[string]string{"Arn": aws.ToString(role.Arn), "RoleId": aws.ToString(role.RoleId)}, nil
}

// createPolicy puts an AWS::IAM::Policy, an inline policy, on each of its roles, users and groups.
func createPolicy(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.iam
	name, doc := p.str("PolicyName"), p.jsonDoc("PolicyDocument")
	roles, users, groups := p.strs("Roles"), p.strs("Users"), p.strs("Groups")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	for _, role := range roles {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
			RoleName: aws.String(role), PolicyName: &name, PolicyDocument: &doc,
		}); err != nil {
			return "", nil, fmt.Errorf("PutRolePolicy on role %s: %w", role, err)
		}
		if key, ok := m.d.roleNames[role]; ok {
			m.d.policies[key] = append(m.d.policies[key], PolicyDocument{Name: name, Source: r.LogicalID, Document: json.RawMessage(doc)})
		}
	}
	for _, user := range users {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{
			UserName: aws.String(user), PolicyName: &name, PolicyDocument: &doc,
		}); err != nil {
			return "", nil, fmt.Errorf("PutUserPolicy on user %s: %w", user, err)
		}
	}
	for _, group := range groups {
		if _, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
			GroupName: aws.String(group), PolicyName: &name, PolicyDocument: &doc,
		}); err != nil {
			return "", nil, fmt.Errorf("PutGroupPolicy on group %s: %w", group, err)
		}
	}
	return physicalName(m.d.RunID, r.Stack, r.LogicalID, 128, false), nil, nil
}

// createManagedPolicy creates an AWS::IAM::ManagedPolicy and attaches it to its roles, users and groups. Its Ref is
// its ARN.
func createManagedPolicy(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.iam
	name := m.name(r, p, "ManagedPolicyName", 128, false)
	doc := p.jsonDoc("PolicyDocument")
	in := &iam.CreatePolicyInput{
		PolicyName: &name, PolicyDocument: &doc, Description: p.strp("Description"), Path: p.strp("Path"),
	}
	roles, users, groups := p.strs("Roles"), p.strs("Users"), p.strs("Groups")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreatePolicy(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreatePolicy: %w", err)
	}
	arn := aws.ToString(out.Policy.Arn)
	for _, role := range roles {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(role), PolicyArn: &arn}); err != nil {
			return "", nil, fmt.Errorf("AttachRolePolicy on role %s: %w", role, err)
		}
		if key, ok := m.d.roleNames[role]; ok {
			m.d.policies[key] = append(m.d.policies[key], PolicyDocument{
				Name: arn, Source: r.LogicalID, ManagedPolicyARN: arn, Document: json.RawMessage(doc),
			})
		}
	}
	for _, user := range users {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: &arn}); err != nil {
			return "", nil, fmt.Errorf("AttachUserPolicy on user %s: %w", user, err)
		}
	}
	for _, group := range groups {
		if _, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: &arn}); err != nil {
			return "", nil, fmt.Errorf("AttachGroupPolicy on group %s: %w", group, err)
		}
	}
	return arn, map[string]string{"PolicyArn": arn, "PolicyId": aws.ToString(out.Policy.PolicyId)}, nil
}
