// Package deps trims dependencies the CDK renders that CloudFormation already infers.
package deps

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DropRole removes role's own resource from the DependsOn of scope's default resource: the resource already
// references the role by GetAtt, and the explicit dependency only draws cfn-lint's W3005. Every other dependency
// stays, the role's DefaultPolicy included, so the resource is still created after its permissions.
func DropRole(scope constructs.IConstruct, role constructs.IConstruct) {
	cfn, ok := scope.Node().DefaultChild().(awscdk.CfnResource)
	roleCfn, ok2 := role.Node().DefaultChild().(awscdk.CfnResource)
	if !ok || !ok2 {
		return
	}
	cfn.AddOverride(jsii.String("DependsOn"), awscdk.Lazy_Any(&dependsOnWithout{cfn: cfn, drop: roleCfn}, &awscdk.LazyAnyValueOptions{OmitEmptyArray: jsii.Bool(true)}))
}

// dependsOnWithout produces the logical ids of cfn's dependencies except drop, sorted as the CDK sorts them.
type dependsOnWithout struct {
	cfn, drop awscdk.CfnResource
}

// Produce implements awscdk.IStableAnyProducer.
func (p *dependsOnWithout) Produce() interface{} {
	stack := awscdk.Stack_Of(p.cfn)
	dropPath := *p.drop.Node().Path()
	ids := []string{}
	for _, d := range *p.cfn.ObtainDependencies() {
		r, ok := d.(awscdk.CfnResource)
		if !ok || *r.Node().Path() == dropPath || awscdk.Stack_Of(r) != stack {
			continue
		}
		if id, ok := stack.Resolve(r.LogicalId()).(string); ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
