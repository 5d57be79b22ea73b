package cfn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// DefaultAccountID is the account moto server answers for, and the default value of AWS::AccountId.
const DefaultAccountID = "123456789012"

// RefError reports a reference that cannot be resolved: an unknown resource, attribute, parameter, export,
// condition or mapping key, or a resource that has not been created (yet, or at all).
type RefError struct {
	// Stack is the stack whose template holds the reference.
	Stack string
	// Resource is the logical id of the resource holding the reference ("Outputs.<id>" for an output, "Conditions"
	// for a condition), "" when the value resolved belongs to none.
	Resource string
	// Path is where the reference sits inside the resource, such as Properties.Environment.Variables.TABLE.
	Path string
	// Intrinsic is the intrinsic function making the reference: Ref, Fn::GetAtt, Fn::Sub, Fn::ImportValue,
	// Fn::FindInMap, Fn::If or Condition.
	Intrinsic string
	// Target is what is referenced: a logical id, a parameter, an export name, a condition or a mapping.
	Target string
	// Attribute is the attribute of a Fn::GetAtt (or the keys of a Fn::FindInMap), "" otherwise.
	Attribute string
	// Reason says why the reference cannot be resolved.
	Reason string
}

// Error names the stack, the resource holding the reference, the referenced thing and its attribute.
func (e *RefError) Error() string {
	var b strings.Builder
	b.WriteString("stack " + e.Stack)
	if e.Resource != "" {
		b.WriteString(", resource " + e.Resource)
	}
	if e.Path != "" {
		b.WriteString(" at " + e.Path)
	}
	b.WriteString(": " + e.Intrinsic + " " + e.Target)
	if e.Attribute != "" {
		b.WriteString("." + e.Attribute)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// Resolver evaluates CloudFormation intrinsic functions in the templates of an assembly, against the physical ids
// and attributes recorded for the resources created so far (by Materialize, or by hand in tests).
//
// Resolved values keep the template's JSON types: strings, json.Number, bool, []any and map[string]any.
// A Ref to AWS::NoValue removes the property or list element that holds it.
type Resolver struct {
	assembly  *Assembly
	region    string
	accountID string
	params    map[string]map[string]string
	records   map[string]map[string]*record
	conds     map[string]map[string]bool
	exports   map[string]exportRef
}

type record struct {
	physicalID string
	attrs      map[string]string
	// missing says why the resource has no physical id, "" when it has one.
	missing string
}

type exportRef struct {
	stack  *Stack
	output string
}

// noValue is what a Ref to AWS::NoValue resolves to: the enclosing property or element is removed.
type noValueType struct{}

var noValue = noValueType{}

// NewResolver returns a resolver for the stacks of an assembly, deployed in a region of an account.
func NewResolver(a *Assembly, region, accountID string) *Resolver {
	return &Resolver{
		assembly: a, region: region, accountID: accountID,
		params:  map[string]map[string]string{},
		records: map[string]map[string]*record{},
		conds:   map[string]map[string]bool{},
	}
}

// SetParameter gives a stack's parameter a value, overriding its default.
func (r *Resolver) SetParameter(stack, name, value string) {
	if r.params[stack] == nil {
		r.params[stack] = map[string]string{}
	}
	r.params[stack][name] = value
	r.conds = map[string]map[string]bool{}
	r.exports = nil
}

// Record records the physical id (what Ref returns) and the attributes (what Fn::GetAtt returns) of a created
// resource.
func (r *Resolver) Record(stack, logicalID, physicalID string, attrs map[string]string) {
	if r.records[stack] == nil {
		r.records[stack] = map[string]*record{}
	}
	copied := make(map[string]string, len(attrs))
	for k, v := range attrs {
		copied[k] = v
	}
	r.records[stack][logicalID] = &record{physicalID: physicalID, attrs: copied}
}

// recordMissing records that a resource exists in the template but has no physical id, and why.
func (r *Resolver) recordMissing(stack, logicalID, reason string) {
	if r.records[stack] == nil {
		r.records[stack] = map[string]*record{}
	}
	r.records[stack][logicalID] = &record{missing: reason}
}

// Recorded returns the physical id and attributes recorded for a resource, and whether it has any.
func (r *Resolver) Recorded(stack, logicalID string) (physicalID string, attrs map[string]string, ok bool) {
	rec := r.records[stack][logicalID]
	if rec == nil || rec.missing != "" {
		return "", nil, false
	}
	return rec.physicalID, rec.attrs, true
}

// Resolve resolves every intrinsic function in v, a value of stack's template. from names the resource (or
// "Outputs.<id>") the value belongs to, for error messages; it may be "".
func (r *Resolver) Resolve(stack, from string, v any) (any, error) {
	s := r.assembly.Stack(stack)
	if s == nil {
		return nil, fmt.Errorf("no stack %s in the assembly", stack)
	}
	c := &scope{r: r, stack: s, from: from}
	out, err := c.value(v, "")
	if err != nil {
		return nil, err
	}
	if out == noValue {
		return nil, nil
	}
	return out, nil
}

// ResolveString resolves v and requires a string (a number or a boolean is converted, as CloudFormation does).
func (r *Resolver) ResolveString(stack, from string, v any) (string, error) {
	out, err := r.Resolve(stack, from, v)
	if err != nil {
		return "", err
	}
	s, ok := scalarString(out)
	if !ok {
		return "", fmt.Errorf("stack %s, resource %s: %s is not a string", stack, from, compact(out))
	}
	return s, nil
}

// Condition evaluates a condition of a stack's template.
func (r *Resolver) Condition(stack, name string) (bool, error) {
	s := r.assembly.Stack(stack)
	if s == nil {
		return false, fmt.Errorf("no stack %s in the assembly", stack)
	}
	c := &scope{r: r, stack: s, from: "Conditions"}
	return c.condition(name, "Conditions", map[string]bool{})
}

// ImportValue returns the value a stack exports under that name, as Fn::ImportValue does.
func (r *Resolver) ImportValue(name string) (string, error) {
	c := &scope{r: r}
	return c.importValue(name, "")
}

// scope resolves values of one stack's template, on behalf of one resource.
type scope struct {
	r     *Resolver
	stack *Stack
	from  string
}

func (c *scope) refErr(path, intrinsic, target, attr, reason string) *RefError {
	e := &RefError{Resource: c.from, Path: path, Intrinsic: intrinsic, Target: target, Attribute: attr, Reason: reason}
	if c.stack != nil {
		e.Stack = c.stack.Name
	}
	return e
}

func (c *scope) errf(path, format string, args ...any) error {
	where := "stack " + c.stack.Name
	if c.from != "" {
		where += ", resource " + c.from
	}
	if path != "" {
		where += " at " + path
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

func join(path, elem string) string {
	if path == "" {
		return elem
	}
	return path + "." + elem
}

// intrinsicCall returns the function name and arguments when v is an intrinsic function call.
func intrinsicCall(v any) (string, any, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", nil, false
	}
	for k, args := range m {
		if k == "Ref" || strings.HasPrefix(k, "Fn::") {
			return k, args, true
		}
	}
	return "", nil, false
}

func (c *scope) value(v any, path string) (any, error) {
	if fn, args, ok := intrinsicCall(v); ok {
		return c.intrinsic(fn, args, path)
	}
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			rv, err := c.value(e, join(path, k))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			rv, err := c.value(e, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	}
	return v, nil
}

func (c *scope) str(v any, path, what string) (string, error) {
	rv, err := c.value(v, path)
	if err != nil {
		return "", err
	}
	s, ok := scalarString(rv)
	if !ok {
		return "", c.errf(path, "%s: %s is not a string", what, compact(rv))
	}
	return s, nil
}

func (c *scope) list(v any, path, what string) ([]any, error) {
	rv, err := c.value(v, path)
	if err != nil {
		return nil, err
	}
	l, ok := rv.([]any)
	if !ok {
		return nil, c.errf(path, "%s: %s is not a list", what, compact(rv))
	}
	return l, nil
}

func args(v any, n int) ([]any, bool) {
	l, ok := v.([]any)
	return l, ok && len(l) == n
}

func (c *scope) intrinsic(fn string, a any, path string) (any, error) {
	switch fn {
	case "Ref":
		name, ok := a.(string)
		if !ok {
			return nil, c.errf(path, "Ref takes a name, not %s", compact(a))
		}
		return c.ref(name, path, "Ref")
	case "Fn::GetAtt":
		var target, attr string
		switch a := a.(type) {
		case string:
			t, at, found := strings.Cut(a, ".")
			if !found {
				return nil, c.errf(path, "Fn::GetAtt %q is not <logicalId>.<attribute>", a)
			}
			target, attr = t, at
		case []any:
			if len(a) != 2 {
				return nil, c.errf(path, "Fn::GetAtt takes [logicalId, attribute], not %s", compact(a))
			}
			t, ok := a[0].(string)
			if !ok {
				return nil, c.errf(path, "Fn::GetAtt: the logical id %s is not a string", compact(a[0]))
			}
			at, err := c.str(a[1], path, "Fn::GetAtt attribute")
			if err != nil {
				return nil, err
			}
			target, attr = t, at
		default:
			return nil, c.errf(path, "Fn::GetAtt takes [logicalId, attribute], not %s", compact(a))
		}
		return c.getAtt(target, attr, path, "Fn::GetAtt")
	case "Fn::Join":
		l, ok := args(a, 2)
		if !ok {
			return nil, c.errf(path, "Fn::Join takes [delimiter, list], not %s", compact(a))
		}
		delim, err := c.str(l[0], path, "Fn::Join delimiter")
		if err != nil {
			return nil, err
		}
		elems, err := c.list(l[1], path, "Fn::Join list")
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(elems))
		for i, e := range elems {
			s, ok := scalarString(e)
			if !ok {
				return nil, c.errf(path, "Fn::Join: element %d, %s, is not a string", i, compact(e))
			}
			parts[i] = s
		}
		return strings.Join(parts, delim), nil
	case "Fn::Sub":
		return c.sub(a, path)
	case "Fn::Select":
		l, ok := args(a, 2)
		if !ok {
			return nil, c.errf(path, "Fn::Select takes [index, list], not %s", compact(a))
		}
		is, err := c.str(l[0], path, "Fn::Select index")
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, c.errf(path, "Fn::Select: index %q is not an integer", is)
		}
		elems, err := c.list(l[1], path, "Fn::Select list")
		if err != nil {
			return nil, err
		}
		if i < 0 || i >= len(elems) {
			return nil, c.errf(path, "Fn::Select: index %d is out of a list of %d", i, len(elems))
		}
		return elems[i], nil
	case "Fn::Split":
		l, ok := args(a, 2)
		if !ok {
			return nil, c.errf(path, "Fn::Split takes [delimiter, string], not %s", compact(a))
		}
		delim, err := c.str(l[0], path, "Fn::Split delimiter")
		if err != nil {
			return nil, err
		}
		src, err := c.str(l[1], path, "Fn::Split source")
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(src, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::ImportValue":
		name, err := c.str(a, path, "Fn::ImportValue")
		if err != nil {
			return nil, err
		}
		return c.importValue(name, path)
	case "Fn::If":
		l, ok := args(a, 3)
		if !ok {
			return nil, c.errf(path, "Fn::If takes [condition, then, else], not %s", compact(a))
		}
		name, ok := l[0].(string)
		if !ok {
			return nil, c.errf(path, "Fn::If: the condition %s is not a name", compact(l[0]))
		}
		yes, err := c.condition(name, path, map[string]bool{})
		if err != nil {
			return nil, err
		}
		if yes {
			return c.value(l[1], path)
		}
		return c.value(l[2], path)
	case "Fn::FindInMap":
		l, ok := a.([]any)
		if !ok || len(l) != 3 {
			return nil, c.errf(path, "Fn::FindInMap takes [map, top key, second key], not %s", compact(a))
		}
		var keys [3]string
		for i := range keys {
			s, err := c.str(l[i], path, "Fn::FindInMap key")
			if err != nil {
				return nil, err
			}
			keys[i] = s
		}
		top, ok := c.stack.Mappings[keys[0]].(map[string]any)
		if !ok {
			return nil, c.refErr(path, "Fn::FindInMap", keys[0], "", "the template has no such mapping")
		}
		second, ok := top[keys[1]].(map[string]any)
		if !ok {
			return nil, c.refErr(path, "Fn::FindInMap", keys[0], keys[1], "the mapping has no such key")
		}
		v, ok := second[keys[2]]
		if !ok {
			return nil, c.refErr(path, "Fn::FindInMap", keys[0], keys[1]+"."+keys[2], "the mapping has no such key")
		}
		return c.value(v, path)
	case "Fn::Base64":
		s, err := c.str(a, path, "Fn::Base64")
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::GetAZs":
		region, err := c.str(a, path, "Fn::GetAZs")
		if err != nil {
			return nil, err
		}
		if region == "" {
			region = c.r.region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not":
		return nil, c.errf(path, "%s is only allowed in Conditions", fn)
	}
	return nil, c.errf(path, "unsupported intrinsic function %s", fn)
}

// ref resolves a Ref: a parameter, a pseudo parameter or a resource of the stack.
func (c *scope) ref(name, path, intrinsic string) (any, error) {
	switch name {
	case "AWS::AccountId":
		return c.r.accountID, nil
	case "AWS::Region":
		return c.r.region, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return c.stack.Name, nil
	case "AWS::StackId":
		return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", c.r.region, c.r.accountID, c.stack.Name,
			uuidFrom(c.r.region, c.r.accountID, c.stack.Name)), nil
	case "AWS::NoValue":
		return noValue, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if p, ok := c.stack.Parameters[name]; ok {
		if v, ok := c.r.params[c.stack.Name][name]; ok {
			return v, nil
		}
		if strings.HasPrefix(p.Type, "AWS::SSM::Parameter::") {
			return nil, c.refErr(path, intrinsic, name, "", "an SSM-backed parameter needs a value (WithParameters)")
		}
		if p.Default == nil {
			return nil, c.refErr(path, intrinsic, name, "", "the parameter has no default and no value was given")
		}
		return p.Default, nil
	}
	if strings.HasPrefix(name, "AWS::") {
		return nil, c.refErr(path, intrinsic, name, "", "unknown pseudo parameter")
	}
	res, ok := c.stack.Resources[name]
	if !ok {
		return nil, c.refErr(path, intrinsic, name, "", "the template has no such resource or parameter")
	}
	rec := c.r.records[c.stack.Name][name]
	switch {
	case rec == nil:
		return nil, c.refErr(path, intrinsic, name, "", fmt.Sprintf("%s has not been created", res.Type))
	case rec.missing != "":
		return nil, c.refErr(path, intrinsic, name, "", fmt.Sprintf("%s was not created: %s", res.Type, rec.missing))
	}
	return rec.physicalID, nil
}

// getAtt resolves a Fn::GetAtt of a resource of the stack.
func (c *scope) getAtt(target, attr, path, intrinsic string) (any, error) {
	res, ok := c.stack.Resources[target]
	if !ok {
		return nil, c.refErr(path, intrinsic, target, attr, "the template has no such resource")
	}
	rec := c.r.records[c.stack.Name][target]
	switch {
	case rec == nil:
		return nil, c.refErr(path, intrinsic, target, attr, fmt.Sprintf("%s has not been created", res.Type))
	case rec.missing != "":
		return nil, c.refErr(path, intrinsic, target, attr, fmt.Sprintf("%s was not created: %s", res.Type, rec.missing))
	}
	v, ok := rec.attrs[attr]
	if !ok {
		if isCustom(res.Type) {
			return nil, c.refErr(path, intrinsic, target, attr,
				fmt.Sprintf("the attributes of %s come from its provider function, which is not run", res.Type))
		}
		return nil, c.refErr(path, intrinsic, target, attr, fmt.Sprintf("%s has no attribute %s", res.Type, attr))
	}
	return v, nil
}

// sub resolves both forms of Fn::Sub.
func (c *scope) sub(a any, path string) (any, error) {
	var tmpl string
	vars := map[string]string{}
	switch a := a.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, c.errf(path, "Fn::Sub takes a string or [string, variables], not %s", compact(a))
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, c.errf(path, "Fn::Sub: the template %s is not a string", compact(a[0]))
		}
		tmpl = s
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, c.errf(path, "Fn::Sub: the variables %s are not a map", compact(a[1]))
		}
		for k, v := range m {
			s, err := c.str(v, join(path, k), "Fn::Sub variable "+k)
			if err != nil {
				return nil, err
			}
			vars[k] = s
		}
	default:
		return nil, c.errf(path, "Fn::Sub takes a string or [string, variables], not %s", compact(a))
	}
	var b strings.Builder
	for _, part := range parseSub(tmpl) {
		switch {
		case !part.variable:
			b.WriteString(part.text)
		default:
			if v, ok := vars[part.text]; ok {
				b.WriteString(v)
				continue
			}
			var v any
			var err error
			if target, attr, found := strings.Cut(part.text, "."); found && !strings.HasPrefix(part.text, "AWS::") {
				v, err = c.getAtt(target, attr, path, "Fn::Sub")
			} else {
				v, err = c.ref(part.text, path, "Fn::Sub")
			}
			if err != nil {
				return nil, err
			}
			s, ok := scalarString(v)
			if !ok {
				return nil, c.errf(path, "Fn::Sub: ${%s} is %s, not a string", part.text, compact(v))
			}
			b.WriteString(s)
		}
	}
	return b.String(), nil
}

type subPart struct {
	text     string
	variable bool
}

// parseSub splits a Fn::Sub template into literal text and ${variable} names; ${!Literal} stays ${Literal}.
func parseSub(s string) []subPart {
	var parts []subPart
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit.WriteString(s)
			break
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		name := s[i+2 : i+j]
		if strings.HasPrefix(name, "!") {
			lit.WriteString("${" + name[1:] + "}")
		} else {
			if lit.Len() > 0 {
				parts = append(parts, subPart{text: lit.String()})
				lit.Reset()
			}
			parts = append(parts, subPart{text: name, variable: true})
		}
		s = s[i+j+1:]
	}
	if lit.Len() > 0 {
		parts = append(parts, subPart{text: lit.String()})
	}
	return parts
}

// importValue resolves Fn::ImportValue: the output of another stack exported under name.
func (c *scope) importValue(name, path string) (string, error) {
	if c.r.exports == nil {
		idx := map[string]exportRef{}
		for _, s := range c.r.assembly.Stacks {
			for id, o := range s.Outputs {
				if o.Export == nil {
					continue
				}
				if o.Condition != "" {
					yes, err := c.r.Condition(s.Name, o.Condition)
					if err != nil {
						return "", err
					}
					if !yes {
						continue
					}
				}
				en, err := c.r.ResolveString(s.Name, "Outputs."+id, o.Export)
				if err != nil {
					return "", err
				}
				idx[en] = exportRef{stack: s, output: id}
			}
		}
		c.r.exports = idx
	}
	ref, ok := c.r.exports[name]
	stackName := ""
	if c.stack != nil {
		stackName = c.stack.Name
	}
	if !ok {
		return "", c.refErr(path, "Fn::ImportValue", name, "", "no stack of the assembly exports that name")
	}
	if ref.stack.Name == stackName {
		return "", c.refErr(path, "Fn::ImportValue", name, "", "a stack cannot import its own export")
	}
	v, err := c.r.ResolveString(ref.stack.Name, "Outputs."+ref.output, ref.stack.Outputs[ref.output].Value)
	if err != nil {
		var re *RefError
		if errors.As(err, &re) {
			return "", c.refErr(path, "Fn::ImportValue", name, "",
				fmt.Sprintf("exported by stack %s (output %s), which cannot resolve it: %v", ref.stack.Name, ref.output, err))
		}
		return "", err
	}
	return v, nil
}

// condition evaluates a named condition of the stack; visiting detects cycles.
func (c *scope) condition(name, path string, visiting map[string]bool) (bool, error) {
	if v, ok := c.r.conds[c.stack.Name][name]; ok {
		return v, nil
	}
	expr, ok := c.stack.Conditions[name]
	if !ok {
		return false, c.refErr(path, "Condition", name, "", "the template has no such condition")
	}
	if visiting[name] {
		return false, c.refErr(path, "Condition", name, "", "the condition refers to itself")
	}
	visiting[name] = true
	cs := &scope{r: c.r, stack: c.stack, from: "Conditions." + name}
	v, err := cs.condExpr(expr, "", visiting)
	if err != nil {
		return false, err
	}
	delete(visiting, name)
	if c.r.conds[c.stack.Name] == nil {
		c.r.conds[c.stack.Name] = map[string]bool{}
	}
	c.r.conds[c.stack.Name][name] = v
	return v, nil
}

func (c *scope) condExpr(expr any, path string, visiting map[string]bool) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return false, c.errf(path, "%s is not a condition expression", compact(expr))
	}
	for fn, a := range m {
		switch fn {
		case "Condition":
			name, ok := a.(string)
			if !ok {
				return false, c.errf(path, "Condition takes a name, not %s", compact(a))
			}
			return c.condition(name, path, visiting)
		case "Fn::Equals":
			l, ok := args(a, 2)
			if !ok {
				return false, c.errf(path, "Fn::Equals takes two values, not %s", compact(a))
			}
			x, err := c.value(l[0], path)
			if err != nil {
				return false, err
			}
			y, err := c.value(l[1], path)
			if err != nil {
				return false, err
			}
			xs, ok1 := scalarString(x)
			ys, ok2 := scalarString(y)
			if ok1 && ok2 {
				return xs == ys, nil
			}
			return reflect.DeepEqual(x, y), nil
		case "Fn::And", "Fn::Or":
			l, ok := a.([]any)
			if !ok || len(l) < 2 || len(l) > 10 {
				return false, c.errf(path, "%s takes 2 to 10 conditions, not %s", fn, compact(a))
			}
			and := fn == "Fn::And"
			for _, e := range l {
				v, err := c.condExpr(e, path, visiting)
				if err != nil {
					return false, err
				}
				if v != and {
					return v, nil
				}
			}
			return and, nil
		case "Fn::Not":
			l, ok := args(a, 1)
			if !ok {
				return false, c.errf(path, "Fn::Not takes one condition, not %s", compact(a))
			}
			v, err := c.condExpr(l[0], path, visiting)
			return !v, err
		}
		return false, c.errf(path, "%s is not a condition function", fn)
	}
	panic("unreachable")
}

// scalarString converts a resolved scalar to the string CloudFormation would use.
func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int:
		return strconv.Itoa(v), true
	}
	return "", false
}

// compact renders a value for error messages.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// walk calls visit for every intrinsic function call in v, outermost first.
func walk(v any, visit func(fn string, args any)) {
	if fn, a, ok := intrinsicCall(v); ok {
		visit(fn, a)
		walk(a, visit)
		return
	}
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			walk(e, visit)
		}
	case []any:
		for _, e := range v {
			walk(e, visit)
		}
	}
}

// references returns the logical ids of the resources of stack s that v refers to (Ref, Fn::GetAtt, Fn::Sub).
func references(s *Stack, v any) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id string) {
		if _, ok := s.Resources[id]; ok && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	walk(v, func(fn string, a any) {
		switch fn {
		case "Ref":
			if name, ok := a.(string); ok {
				add(name)
			}
		case "Fn::GetAtt":
			switch a := a.(type) {
			case []any:
				if len(a) > 0 {
					if name, ok := a[0].(string); ok {
						add(name)
					}
				}
			case string:
				name, _, _ := strings.Cut(a, ".")
				add(name)
			}
		case "Fn::Sub":
			tmpl, _ := a.(string)
			var vars map[string]any
			if l, ok := a.([]any); ok && len(l) == 2 {
				tmpl, _ = l[0].(string)
				vars, _ = l[1].(map[string]any)
			}
			for _, p := range parseSub(tmpl) {
				if !p.variable {
					continue
				}
				if _, ok := vars[p.text]; ok {
					continue
				}
				name, _, _ := strings.Cut(p.text, ".")
				add(name)
			}
		}
	})
	return out
}

// toInt reads an integer from a JSON number, a numeric string or a float.
func toInt(v any) (int, error) {
	switch v := v.(type) {
	case json.Number:
		n, err := strconv.Atoi(v.String())
		if err != nil {
			return 0, fmt.Errorf("%s is not an integer", v)
		}
		return n, nil
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	case float64:
		if v != float64(int(v)) {
			return 0, fmt.Errorf("%v is not an integer", v)
		}
		return int(v), nil
	case int:
		return v, nil
	}
	return 0, fmt.Errorf("%s is not an integer", compact(v))
}

// isCustom reports whether a resource type is a custom resource.
func isCustom(typ string) bool {
	return strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource"
}
