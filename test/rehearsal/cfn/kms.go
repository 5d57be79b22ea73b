package cfn

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// createKey creates an AWS::KMS::Key with its key policy, usage and spec, and turns on rotation or disables it as
// the template says. Its Ref is its key id.
func createKey(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.kms
	in := &kms.CreateKeyInput{
		Description: p.strp("Description"), KeyUsage: kmstypes.KeyUsageType(p.str("KeyUsage")),
		KeySpec: kmstypes.KeySpec(p.str("KeySpec")), MultiRegion: p.boolp("MultiRegion"),
		Origin: kmstypes.OriginType(p.str("Origin")),
	}
	if p.has("KeyPolicy") {
		in.Policy = aws.String(p.jsonDoc("KeyPolicy"))
	}
	rotate, _ := p.boolean("EnableKeyRotation")
	enabled, hasEnabled := p.boolean("Enabled")
	p.ignore("PendingWindowInDays") // deletion only
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreateKey(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateKey: %w", err)
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	if rotate {
		if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{
			KeyId: &id, RotationPeriodInDays: p.int32p("RotationPeriodInDays"),
		}); err != nil {
			m.gap(r, "EnableKeyRotation: %v", err)
		}
	}
	if hasEnabled && !enabled {
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &id}); err != nil {
			m.gap(r, "Enabled false: DisableKey: %v", err)
		}
	}
	return id, map[string]string{"Arn": aws.ToString(out.KeyMetadata.Arn), "KeyId": id}, nil
}

// createAlias creates an AWS::KMS::Alias. Its Ref is the alias name.
func createAlias(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	name, target := p.str("AliasName"), p.str("TargetKeyId")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	if _, err := m.c.kms.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &target}); err != nil {
		return "", nil, fmt.Errorf("CreateAlias: %w", err)
	}
	return name, nil, nil
}
