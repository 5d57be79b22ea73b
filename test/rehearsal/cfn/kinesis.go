package cfn

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// createStream creates an AWS::Kinesis::Stream: capacity mode or shard count, retention and encryption.
func createStream(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	c := m.c.kinesis
	name := m.name(r, p, "Name", 128, false)
	in := &kinesis.CreateStreamInput{StreamName: &name}
	mode := ktypes.StreamModeProvisioned
	if md := p.obj("StreamModeDetails"); md != nil {
		mode = ktypes.StreamMode(md.str("StreamMode"))
	}
	in.StreamModeDetails = &ktypes.StreamModeDetails{StreamMode: mode}
	in.ShardCount = p.int32p("ShardCount")
	if in.ShardCount == nil && mode == ktypes.StreamModeProvisioned {
		in.ShardCount = aws.Int32(1)
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	if _, err := c.CreateStream(ctx, in); err != nil {
		return "", nil, fmt.Errorf("CreateStream: %w", err)
	}
	if err := kinesis.NewStreamExistsWaiter(c).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, time.Minute); err != nil {
		return "", nil, fmt.Errorf("stream %s did not become active: %w", name, err)
	}
	if hours, ok := p.integer("RetentionPeriodHours"); ok && hours != 24 {
		if hours > 24 {
			_, err := c.IncreaseStreamRetentionPeriod(ctx, &kinesis.IncreaseStreamRetentionPeriodInput{
				StreamName: &name, RetentionPeriodHours: aws.Int32(int32(hours)),
			})
			if err != nil {
				m.gap(r, "RetentionPeriodHours %d: IncreaseStreamRetentionPeriod: %v", hours, err)
			}
		} else {
			m.gap(r, "RetentionPeriodHours %d is below the minimum of 24", hours)
		}
	}
	if enc := p.obj("StreamEncryption"); enc != nil {
		_, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{
			StreamName: &name, EncryptionType: ktypes.EncryptionType(enc.str("EncryptionType")), KeyId: enc.strp("KeyId"),
		})
		if err != nil {
			m.gap(r, "StreamEncryption: StartStreamEncryption: %v", err)
		}
	}
	out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		return "", nil, fmt.Errorf("DescribeStreamSummary: %w", err)
	}
	return name, map[string]string{"Arn": aws.ToString(out.StreamDescriptionSummary.StreamARN)}, nil
}

// createStreamConsumer registers an AWS::Kinesis::StreamConsumer (an enhanced fan-out consumer). Its Ref is its ARN.
func createStreamConsumer(ctx context.Context, m *materializer, r *Resource, p *props) (string, map[string]string, error) {
	streamARN, name := p.str("StreamARN"), p.str("ConsumerName")
	if err := p.err(); err != nil {
		return "", nil, err
	}
	out, err := m.c.kinesis.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{
		StreamARN: &streamARN, ConsumerName: &name,
	})
	if err != nil {
		return "", nil, fmt.Errorf("RegisterStreamConsumer: %w", err)
	}
	cons := out.Consumer
	arn := aws.ToString(cons.ConsumerARN)
	attrs := map[string]string{
		"ConsumerARN": arn, "ConsumerName": aws.ToString(cons.ConsumerName),
		"ConsumerStatus": string(cons.ConsumerStatus), "StreamARN": streamARN,
	}
	if cons.ConsumerCreationTimestamp != nil {
		attrs["ConsumerCreationTimestamp"] = cons.ConsumerCreationTimestamp.UTC().Format(time.RFC3339)
	}
	return arn, attrs, nil
}
