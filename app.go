// Command eventlake is the full eventlake blueprint: the CDK app that platform teams deploy with `npx cdk deploy`.
//
// Its stacks are environment-agnostic: synth needs no AWS account or credentials.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/constructs/blueprint"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	blueprint.New(app)
	app.Synth(nil)
}
