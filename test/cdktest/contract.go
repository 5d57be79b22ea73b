package cdktest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"github.com/eventlake/eventlake/contract"
)

// Contract is what a construct's test says about the variables one of its functions is given: the loader of the
// function's handler (package contract's), the CloudFormation type each token-valued variable must reference, and the
// optional variables the handler reads that this configuration leaves unset.
type Contract struct {
	// Load is the handler's loader, such as contract.LoadEventStore (wrap it to drop the configuration).
	Load func(contract.Lookup) error
	// Refs maps each variable whose value is a token (a Ref, Fn::GetAtt or Fn::Sub) to the type of the resource it
	// must reference, such as "AWS::DynamoDB::Table". A token-valued variable missing here fails the test.
	Refs map[string]string
	// Unset are the optional variables the loader reads that the construct leaves unset in this configuration.
	Unset []string
}

// CheckContract proves that the variables fn is given in stack's template are exactly the ones its handler's loader
// reads (besides c.Unset), and that each value parses with it: literal values as they are, token values (each a
// reference to a resource of the type c.Refs names) replaced by a placeholder, "resolved-<name>", or, inside an
// Fn::Sub, each of its variables by "resolved-<variable>". It returns the values the loader was given.
func CheckContract(t *testing.T, stack awscdk.Stack, fn awslambda.Function, c Contract) map[string]string {
	t.Helper()
	tmpl := *assertions.Template_FromStack(stack, nil).ToJSON()
	resources, _ := tmpl["Resources"].(map[string]any)
	id := *stack.GetLogicalId(fn.Node().DefaultChild().(awscdk.CfnElement))
	fnRes, _ := resources[id].(map[string]any)
	props, _ := fnRes["Properties"].(map[string]any)
	envBlock, _ := props["Environment"].(map[string]any)
	vars, _ := envBlock["Variables"].(map[string]any)
	if len(vars) == 0 {
		t.Fatalf("function %s sets no environment variables", id)
	}
	typeOf := func(name string, ref any) {
		t.Helper()
		logical, _ := ref.(string)
		res, ok := resources[logical].(map[string]any)
		if !ok {
			t.Errorf("%s references %v, which is no resource of the template", name, ref)
			return
		}
		if want := c.Refs[name]; res["Type"] != want {
			t.Errorf("%s references %s, a %v; want a %s", name, logical, res["Type"], want)
		}
	}
	env := map[string]string{}
	for name, v := range vars {
		switch v := v.(type) {
		case string:
			env[name] = v
			continue
		case map[string]any:
			if _, ok := c.Refs[name]; !ok {
				t.Errorf("%s is the token %v, and the test names no resource type it must reference", name, v)
				continue
			}
			switch {
			case v["Ref"] != nil:
				typeOf(name, v["Ref"])
				env[name] = "resolved-" + name
				continue
			case v["Fn::GetAtt"] != nil:
				att, _ := v["Fn::GetAtt"].([]any)
				if len(att) > 0 {
					typeOf(name, att[0])
				}
				env[name] = "resolved-" + name
				continue
			case v["Fn::Sub"] != nil:
				sub, _ := v["Fn::Sub"].([]any)
				if len(sub) == 2 {
					body, _ := sub[0].(string)
					subs, _ := sub[1].(map[string]any)
					for k, ref := range subs {
						if r, ok := ref.(map[string]any); ok && r["Ref"] != nil {
							typeOf(name, r["Ref"])
						} else {
							t.Errorf("%s substitutes %s with %v; want a Ref", name, k, ref)
						}
					}
					env[name] = regexp.MustCompile(`\$\{([^}]+)\}`).ReplaceAllString(body, "resolved-$1")
					continue
				}
			}
		}
		t.Errorf("%s = %v: neither a string nor a Ref, Fn::GetAtt or Fn::Sub", name, v)
	}
	read := map[string]bool{}
	err := c.Load(func(name string) (string, bool) {
		read[name] = true
		v, ok := env[name]
		return v, ok
	})
	if err != nil {
		t.Errorf("the handler's loader refuses the variables %v: %v", env, err)
	}
	set := slices.Sorted(maps.Keys(vars))
	want := slices.Sorted(maps.Keys(read))
	got := slices.Sorted(slices.Values(append(slices.Clone(set), c.Unset...)))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the construct sets %v (and leaves %v unset); the handler's loader reads %v", set, c.Unset, want)
	}
	for _, u := range c.Unset {
		if _, ok := vars[u]; ok {
			t.Errorf("%s is set; the test expects it unset", u)
		}
	}
	return env
}
