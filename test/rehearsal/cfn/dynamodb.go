package cfn

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// createTable creates an AWS::DynamoDB::Table: key schema, attribute definitions, billing, global and local
// secondary indexes, stream, encryption, deletion protection, then its time to live and point-in-time recovery.
func createTable(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.dynamodb
	name := m.name(r, p, "TableName", 255, false)
	in := &dynamodb.CreateTableInput{
		TableName:                 &name,
		KeySchema:                 keySchema(p),
		BillingMode:               dtypes.BillingMode(p.str("BillingMode")),
		ProvisionedThroughput:     throughput(p),
		DeletionProtectionEnabled: p.boolp("DeletionProtectionEnabled"),
		TableClass:                dtypes.TableClass(p.str("TableClass")),
	}
	if in.BillingMode == "" {
		in.BillingMode = dtypes.BillingModeProvisioned
	}
	for _, ad := range p.objs("AttributeDefinitions") {
		in.AttributeDefinitions = append(in.AttributeDefinitions, dtypes.AttributeDefinition{
			AttributeName: ad.strp("AttributeName"), AttributeType: dtypes.ScalarAttributeType(ad.str("AttributeType")),
		})
	}
	for _, g := range p.objs("GlobalSecondaryIndexes") {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, dtypes.GlobalSecondaryIndex{
			IndexName: g.strp("IndexName"), KeySchema: keySchema(g), Projection: projection(g),
			ProvisionedThroughput: throughput(g),
		})
	}
	for _, l := range p.objs("LocalSecondaryIndexes") {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, dtypes.LocalSecondaryIndex{
			IndexName: l.strp("IndexName"), KeySchema: keySchema(l), Projection: projection(l),
		})
	}
	if ss := p.obj("StreamSpecification"); ss != nil {
		in.StreamSpecification = &dtypes.StreamSpecification{
			StreamEnabled: aws.Bool(true), StreamViewType: dtypes.StreamViewType(ss.str("StreamViewType")),
		}
	}
	if sse := p.obj("SSESpecification"); sse != nil {
		in.SSESpecification = &dtypes.SSESpecification{
			Enabled: sse.boolp("SSEEnabled"), SSEType: dtypes.SSEType(sse.str("SSEType")), KMSMasterKeyId: sse.strp("KMSMasterKeyId"),
		}
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := c.CreateTable(ctx, in)
	if err != nil {
		return "", nil, fmt.Errorf("CreateTable: %w", err)
	}
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, time.Minute); err != nil {
		return "", nil, fmt.Errorf("table %s did not become active: %w", name, err)
	}
	if ttl := p.obj("TimeToLiveSpecification"); ttl != nil {
		if on, _ := ttl.boolean("Enabled"); on {
			_, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: &name,
				TimeToLiveSpecification: &dtypes.TimeToLiveSpecification{
					AttributeName: ttl.strp("AttributeName"), Enabled: aws.Bool(true),
				},
			})
			if err != nil {
				m.gap(r, "TimeToLiveSpecification: UpdateTimeToLive: %v", err)
			}
		} else {
			ttl.ignore("AttributeName")
		}
	}
	if pitr := p.obj("PointInTimeRecoverySpecification"); pitr != nil {
		if on, _ := pitr.boolean("PointInTimeRecoveryEnabled"); on {
			_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
				TableName: &name,
				PointInTimeRecoverySpecification: &dtypes.PointInTimeRecoverySpecification{
					PointInTimeRecoveryEnabled: aws.Bool(true), RecoveryPeriodInDays: pitr.int32p("RecoveryPeriodInDays"),
				},
			})
			if err != nil {
				m.gap(r, "PointInTimeRecoverySpecification: UpdateContinuousBackups: %v", err)
			}
		}
	}
	desc := out.TableDescription
	attrs := map[string]string{"Arn": aws.ToString(desc.TableArn)}
	if desc.LatestStreamArn != nil {
		attrs["StreamArn"] = *desc.LatestStreamArn
	}
	return name, attrs, nil
}

func keySchema(p *props) []dtypes.KeySchemaElement {
	var out []dtypes.KeySchemaElement
	for _, k := range p.objs("KeySchema") {
		out = append(out, dtypes.KeySchemaElement{AttributeName: k.strp("AttributeName"), KeyType: dtypes.KeyType(k.str("KeyType"))})
	}
	return out
}

func projection(p *props) *dtypes.Projection {
	pr := p.obj("Projection")
	if pr == nil {
		return nil
	}
	return &dtypes.Projection{ProjectionType: dtypes.ProjectionType(pr.str("ProjectionType")), NonKeyAttributes: pr.strs("NonKeyAttributes")}
}

func throughput(p *props) *dtypes.ProvisionedThroughput {
	t := p.obj("ProvisionedThroughput")
	if t == nil {
		return nil
	}
	return &dtypes.ProvisionedThroughput{ReadCapacityUnits: t.int64p("ReadCapacityUnits"), WriteCapacityUnits: t.int64p("WriteCapacityUnits")}
}
