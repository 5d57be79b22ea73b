package subscription

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// OnFailure is where a subscription sends the batches it gave up on.
type OnFailure interface {
	// Bind grants the subscribed function's role what the mapping needs to deliver there, and returns the ARN.
	Bind(fn awslambda.IFunction) *string
}

// FailuresToBucket sends failed batches to an S3 bucket: each object holds the invocation record and the batch's
// records themselves, so nothing is lost when the stream forgets them.
func FailuresToBucket(bucket awss3.IBucket) OnFailure { return &toBucket{bucket} }

// FailuresToQueue sends failed batches' metadata (shard, sequence numbers) to an SQS queue.
func FailuresToQueue(queue awssqs.IQueue) OnFailure { return &toQueue{queue} }

// FailuresToTopic sends failed batches' metadata (shard, sequence numbers) to an SNS topic.
func FailuresToTopic(topic awssns.ITopic) OnFailure { return &toTopic{topic} }

type toBucket struct{ bucket awss3.IBucket }

// Bind grants what Lambda documents for an S3 on-failure destination, s3:PutObject and s3:ListBucket, and no more.
func (d *toBucket) Bind(fn awslambda.IFunction) *string {
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: fn, Actions: jsii.Strings("s3:PutObject"), ResourceArns: jsii.Strings(*d.bucket.ArnForObjects(jsii.String("*"))),
	})
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: fn, Actions: jsii.Strings("s3:ListBucket"), ResourceArns: &[]*string{d.bucket.BucketArn()},
	})
	if key := d.bucket.EncryptionKey(); key != nil {
		key.GrantEncrypt(fn)
	}
	return d.bucket.BucketArn()
}

type toQueue struct{ queue awssqs.IQueue }

func (d *toQueue) Bind(fn awslambda.IFunction) *string {
	d.queue.GrantSendMessages(fn)
	return d.queue.QueueArn()
}

type toTopic struct{ topic awssns.ITopic }

func (d *toTopic) Bind(fn awslambda.IFunction) *string {
	d.topic.GrantPublish(fn)
	return d.topic.TopicArn()
}
