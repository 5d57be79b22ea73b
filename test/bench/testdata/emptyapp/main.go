// Command emptyapp is an empty CDK Go app: the baseline for synth time.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	awscdk.NewStack(app, jsii.String("Empty"), nil)
	app.Synth(nil)
}
