package golambda

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/eventlake/eventlake/constructs/internal/deps"
)

// FunctionProps configures [NewFunction].
type FunctionProps struct {
	// Package is the import path of the handler's main package, such as
	// "github.com/eventlake/eventlake/lambdas/laketransform" (see [Handler]) or one of your own module's packages.
	Package *string
	// ModuleDir is the directory the go command builds Package from. Default: the eventlake module for packages of
	// eventlake, the working directory for any other package.
	ModuleDir *string
	// Options are the function's settings, in the L2's own type. Code, runtime (provided.al2023), handler (bootstrap)
	// and architecture (arm64) are golambda's. Left unset, golambda chooses: 256 MB, a 30 s timeout, active tracing,
	// JSON logs into a log group kept for three months, and a role that may write only to that log group.
	Options *awslambda.FunctionOptions
}

// Handler returns the import path of the eventlake handler under lambdas/ with the given name.
func Handler(name string) *string {
	return jsii.String(ModulePath + "/lambdas/" + name)
}

// SkipBundling returns the CDK context that skips bundling in every stack (aws:cdk:bundling-stacks = []): templates
// and asset hashes are unchanged, no binary is built. Pass it as awscdk.AppProps.Context in fast template tests.
func SkipBundling() *map[string]interface{} {
	return &map[string]interface{}{"aws:cdk:bundling-stacks": []string{}}
}

// NewFunction returns a Lambda function running the Go handler package props.Package. It panics, naming the package
// and the go command's own message, when the package cannot be listed or built: a synth-time programmer error.
func NewFunction(scope constructs.Construct, id *string, props *FunctionProps) awslambda.Function {
	if props == nil || props.Package == nil || *props.Package == "" {
		panic(fmt.Sprintf("golambda.NewFunction %s: FunctionProps.Package is required (the handler's import path)", *id))
	}
	pkg := *props.Package
	moduleDir := ""
	if props.ModuleDir != nil {
		moduleDir = *props.ModuleDir
	} else if pkg == ModulePath || strings.HasPrefix(pkg, ModulePath+"/") {
		dir, err := ModuleDir()
		if err != nil {
			panic(fmt.Sprintf("golambda.NewFunction %s: %v", *id, err))
		}
		moduleDir = dir
	}
	h, err := resolve(pkg, moduleDir)
	if err != nil {
		panic(fmt.Sprintf("golambda.NewFunction %s: handler package %s: %v", *id, pkg, err))
	}

	fp := &awslambda.FunctionProps{}
	if props.Options != nil {
		copyOptions(props.Options, fp)
	}
	fp.Runtime = awslambda.Runtime_PROVIDED_AL2023()
	fp.Architecture = awslambda.Architecture_ARM_64()
	fp.Handler = jsii.String("bootstrap")
	fp.Code = awslambda.Code_FromAsset(jsii.String(h.srcDir), &awss3assets.AssetOptions{
		AssetHash:     jsii.String(h.hash),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		Bundling: &awscdk.BundlingOptions{
			// Never used: the local build below always succeeds or stops the synth with the go command's error.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("golambda-builds-locally")),
			Local: &localBuild{h: h},
		},
	})
	if fp.MemorySize == nil {
		fp.MemorySize = jsii.Number(256)
	}
	if fp.Timeout == nil {
		fp.Timeout = awscdk.Duration_Seconds(jsii.Number(30))
	}
	if fp.Tracing == "" {
		fp.Tracing = awslambda.Tracing_ACTIVE
	}
	if fp.LoggingFormat == "" {
		fp.LoggingFormat = awslambda.LoggingFormat_JSON
	}

	var logGroup awslogs.ILogGroup
	if fp.LogGroup == nil {
		logGroup = awslogs.NewLogGroup(scope, jsii.String(*id+"Logs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_THREE_MONTHS,
		})
		fp.LogGroup = logGroup
	} else if lg, ok := fp.LogGroup.(awslogs.ILogGroup); ok {
		logGroup = lg
	}
	if fp.Role == nil {
		if logGroup == nil {
			panic(fmt.Sprintf("golambda.NewFunction %s: Options.LogGroup is not an awslogs.ILogGroup, so its write permission cannot be granted: pass Options.Role as well", *id))
		}
		role := awsiam.NewRole(scope, jsii.String(*id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Runs " + pkg),
		})
		logGroup.GrantWrite(role)
		fp.Role = role
		if fp.Tracing == awslambda.Tracing_ACTIVE {
			cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
				Id:        jsii.String("AwsSolutions-IAM5"),
				Reason:    jsii.String("Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions. Any other action on Resource * comes from a construct that explains it, and eventlake's tests fail on any action outside that list."),
				AppliesTo: &[]interface{}{jsii.String("Resource::*")},
			}}, jsii.Bool(true))
		}
	}
	fn := awslambda.NewFunction(scope, id, fp)
	if role, ok := fp.Role.(awsiam.Role); ok {
		deps.DropRole(fn, role)
	}
	return fn
}

// copyOptions copies every field of FunctionOptions into the FunctionProps that embeds the same fields.
func copyOptions(from *awslambda.FunctionOptions, to *awslambda.FunctionProps) {
	src := reflect.ValueOf(from).Elem()
	dst := reflect.ValueOf(to).Elem()
	for i := 0; i < src.NumField(); i++ {
		name := src.Type().Field(i).Name
		if f := dst.FieldByName(name); f.IsValid() && f.CanSet() {
			f.Set(src.Field(i))
		}
	}
}

// localBuild builds the handler with the local go command. It implements awscdk.ILocalBundling (as a pointer, as
// jsii requires).
type localBuild struct {
	h *handler
}

// TryBundle builds bootstrap into outputDir. A failed build stops the synth with the go command's message instead of
// falling back to Docker.
func (b *localBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := b.h.build(*outputDir); err != nil {
		panic(fmt.Sprintf("golambda: build %s: %v", b.h.pkg, err))
	}
	return jsii.Bool(true)
}
