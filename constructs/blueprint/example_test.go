package blueprint_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/eventlake/eventlake/constructs/blueprint"
	"github.com/eventlake/eventlake/constructs/golambda"
)

// The full blueprint, as app.go deploys it.
func ExampleNew() {
	app := awscdk.NewApp(&awscdk.AppProps{Context: golambda.SkipBundling()})
	b := blueprint.New(app)
	fmt.Println(*b.Core.StackName(), *b.Lake.StackName())
	// Output: EventlakeCore EventlakeLake
}
