package cfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Assembly is a cloud assembly read from disk: its stacks in deployment order and the Lambda functions they hold.
type Assembly struct {
	// Dir is the assembly directory, as given to Load, made absolute.
	Dir string
	// Stacks are the assembly's CloudFormation stacks in deployment order: a stack comes after every stack it depends
	// on in the manifest and every stack whose exports it imports.
	Stacks []*Stack
	// Functions are the AWS::Lambda::Function resources of every stack, in stack order and then template order.
	Functions []*Function
}

// Stack is one CloudFormation stack of an assembly, with its template.
type Stack struct {
	// Name is the stack's name (its artifact id in manifest.json, which is also the deployed stack name).
	Name string
	// TemplateFile is the template's absolute path.
	TemplateFile string
	// Dependencies are the stacks this one depends on in the manifest, and the stacks whose exports it imports.
	Dependencies []string
	// Description is the template's Description.
	Description string
	// Parameters are the template's parameters by name.
	Parameters map[string]*Parameter
	// Conditions are the template's condition expressions by name, as written.
	Conditions map[string]any
	// Mappings are the template's Mappings section, as written.
	Mappings map[string]any
	// Resources are the template's resources by logical id.
	Resources map[string]*Resource
	// Order is the logical ids of Resources in template order.
	Order []string
	// Outputs are the template's outputs by logical id.
	Outputs map[string]*Output
}

// Parameter is one template parameter.
type Parameter struct {
	// Type is the parameter's type, such as String or AWS::SSM::Parameter::Value<String>.
	Type string
	// Default is the parameter's default value, nil when it has none.
	Default any
	// Description is the parameter's description.
	Description string
}

// Resource is one resource of a template, as written: intrinsics are not resolved. Numbers are json.Number.
type Resource struct {
	// Stack is the name of the stack holding the resource.
	Stack string
	// LogicalID is the resource's logical id in its template.
	LogicalID string
	// Type is the resource type, such as AWS::SQS::Queue or Custom::EventlakeSubscription.
	Type string
	// Properties are the resource's properties as written in the template.
	Properties map[string]any
	// DependsOn are the logical ids the resource explicitly depends on.
	DependsOn []string
	// Metadata is the resource's Metadata section.
	Metadata map[string]any
	// Condition is the name of the condition that decides whether the resource exists, "" when it always does.
	Condition string
	// DeletionPolicy is the resource's deletion policy, "" when the template sets none.
	DeletionPolicy string
}

// Output is one output of a template, as written.
type Output struct {
	// Value is the output's value, usually an intrinsic.
	Value any
	// Export is the export name (a string or an intrinsic), nil when the output is not exported.
	Export any
	// Description is the output's description.
	Description string
	// Condition is the name of the condition that decides whether the output exists, "" when it always does.
	Condition string
}

// Function describes an AWS::Lambda::Function of the assembly: what a local run of its code needs. Environment values
// are raw; a Deployment resolves them.
type Function struct {
	// Stack is the name of the stack holding the function.
	Stack string
	// LogicalID is the function's logical id.
	LogicalID string
	// AssetDir is the absolute path of the asset directory holding the function's code (and its bootstrap, for the
	// provided runtimes), "" when the code is not a file asset of this assembly (inline code, an image, or an object
	// the assembly does not hold).
	AssetDir string
	// Environment holds the function's Environment.Variables as written: strings or intrinsics.
	Environment map[string]any
	// Role is the logical id of the function's execution role when its Role property is a Fn::GetAtt of a role in the
	// same template, "" otherwise (see RoleProperty).
	Role string
	// RoleProperty is the function's Role property as written.
	RoleProperty any
	// Timeout is the function's timeout in seconds (CloudFormation's default, 3, when the template sets none).
	Timeout int
	// MemorySize is the function's memory in MB (CloudFormation's default, 128, when the template sets none).
	MemorySize int
	// Handler is the function's handler, such as bootstrap.
	Handler string
	// Runtime is the function's runtime, such as provided.al2023.
	Runtime string
	// Architectures are the function's instruction set architectures (x86_64 when the template sets none).
	Architectures []string
	// Description is the function's description.
	Description string
}

// Bootstrap returns the path of the function's bootstrap executable in its asset directory, "" when the function
// has no asset directory.
func (f *Function) Bootstrap() string {
	if f.AssetDir == "" {
		return ""
	}
	return filepath.Join(f.AssetDir, "bootstrap")
}

// Stack returns the stack of that name, nil when the assembly has none.
func (a *Assembly) Stack(name string) *Stack {
	for _, s := range a.Stacks {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Resource returns a resource of a stack, nil when there is no such stack or resource.
func (a *Assembly) Resource(stack, logicalID string) *Resource {
	if s := a.Stack(stack); s != nil {
		return s.Resources[logicalID]
	}
	return nil
}

// Function returns the function of that stack and logical id, nil when there is none.
func (a *Assembly) Function(stack, logicalID string) *Function {
	for _, f := range a.Functions {
		if f.Stack == stack && f.LogicalID == logicalID {
			return f
		}
	}
	return nil
}

// ResourcesOfType returns the resources of a type in every stack, in stack order and then template order.
func (a *Assembly) ResourcesOfType(typ string) []*Resource {
	var out []*Resource
	for _, s := range a.Stacks {
		for _, id := range s.Order {
			if r := s.Resources[id]; r.Type == typ {
				out = append(out, r)
			}
		}
	}
	return out
}

// manifest is the part of manifest.json that Load reads.
type manifest struct {
	Artifacts map[string]struct {
		Type         string          `json:"type"`
		Properties   json.RawMessage `json:"properties"`
		Dependencies []string        `json:"dependencies"`
	} `json:"artifacts"`
}

// assetManifest is the part of an asset manifest (<stack>.assets.json) that Load reads.
type assetManifest struct {
	Files map[string]struct {
		Source struct {
			Path      string `json:"path"`
			Packaging string `json:"packaging"`
		} `json:"source"`
		Destinations map[string]struct {
			ObjectKey string `json:"objectKey"`
		} `json:"destinations"`
	} `json:"files"`
}

// Load reads the cloud assembly in dir: manifest.json, every stack template it names and the asset manifests. Nested
// assemblies (stages) are not read.
func Load(dir string) (*Assembly, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(filepath.Join(abs, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", abs, err)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("cloud assembly %s: manifest.json: %w", abs, err)
	}
	artifactOrder, err := objectKeys(raw, "artifacts")
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: manifest.json: %w", abs, err)
	}

	// Asset manifests: the S3 object key of each file asset, to its source directory.
	assets := map[string]string{}
	for _, id := range artifactOrder {
		art := m.Artifacts[id]
		if art.Type != "cdk:asset-manifest" {
			continue
		}
		var props struct {
			File string `json:"file"`
		}
		if err := json.Unmarshal(art.Properties, &props); err != nil {
			return nil, fmt.Errorf("cloud assembly %s: artifact %s: %w", abs, id, err)
		}
		var am assetManifest
		if err := readJSON(filepath.Join(abs, props.File), &am); err != nil {
			return nil, fmt.Errorf("cloud assembly %s: artifact %s: %w", abs, id, err)
		}
		for _, f := range am.Files {
			if f.Source.Packaging != "zip" {
				continue
			}
			for _, d := range f.Destinations {
				assets[d.ObjectKey] = filepath.Join(abs, f.Source.Path)
			}
		}
	}

	a := &Assembly{Dir: abs}
	stacks := map[string]*Stack{}
	var names []string
	for _, id := range artifactOrder {
		art := m.Artifacts[id]
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		var props struct {
			TemplateFile string `json:"templateFile"`
		}
		if err := json.Unmarshal(art.Properties, &props); err != nil {
			return nil, fmt.Errorf("cloud assembly %s: stack %s: %w", abs, id, err)
		}
		s, err := loadStack(id, filepath.Join(abs, props.TemplateFile))
		if err != nil {
			return nil, fmt.Errorf("cloud assembly %s: %w", abs, err)
		}
		for _, dep := range art.Dependencies {
			if m.Artifacts[dep].Type == "aws:cloudformation:stack" {
				s.Dependencies = append(s.Dependencies, dep)
			}
		}
		stacks[id] = s
		names = append(names, id)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("cloud assembly %s: no CloudFormation stack in manifest.json", abs)
	}
	addImportDependencies(stacks)
	order, err := sortStacks(names, stacks)
	if err != nil {
		return nil, fmt.Errorf("cloud assembly %s: %w", abs, err)
	}
	for _, name := range order {
		s := stacks[name]
		a.Stacks = append(a.Stacks, s)
		for _, id := range s.Order {
			r := s.Resources[id]
			if r.Type != "AWS::Lambda::Function" {
				continue
			}
			f, err := newFunction(r, assets, abs)
			if err != nil {
				return nil, fmt.Errorf("cloud assembly %s: stack %s: function %s: %w", abs, s.Name, id, err)
			}
			a.Functions = append(a.Functions, f)
		}
	}
	return a, nil
}

// template is a CloudFormation template as Load decodes it.
type template struct {
	Description string                     `json:"Description"`
	Parameters  map[string]json.RawMessage `json:"Parameters"`
	Conditions  map[string]any             `json:"Conditions"`
	Mappings    map[string]any             `json:"Mappings"`
	Resources   map[string]struct {
		Type           string         `json:"Type"`
		Properties     map[string]any `json:"Properties"`
		DependsOn      any            `json:"DependsOn"`
		Metadata       map[string]any `json:"Metadata"`
		Condition      string         `json:"Condition"`
		DeletionPolicy string         `json:"DeletionPolicy"`
	} `json:"Resources"`
	Outputs map[string]struct {
		Value  any `json:"Value"`
		Export *struct {
			Name any `json:"Name"`
		} `json:"Export"`
		Description string `json:"Description"`
		Condition   string `json:"Condition"`
	} `json:"Outputs"`
}

func loadStack(name, file string) (*Stack, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	var t template
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", name, filepath.Base(file), err)
	}
	order, err := objectKeys(raw, "Resources")
	if err != nil {
		return nil, fmt.Errorf("stack %s: %s: %w", name, filepath.Base(file), err)
	}
	s := &Stack{
		Name:         name,
		TemplateFile: file,
		Description:  t.Description,
		Parameters:   map[string]*Parameter{},
		Conditions:   t.Conditions,
		Mappings:     t.Mappings,
		Resources:    map[string]*Resource{},
		Order:        order,
		Outputs:      map[string]*Output{},
	}
	for pname, praw := range t.Parameters {
		var p struct {
			Type        string `json:"Type"`
			Default     any    `json:"Default"`
			Description string `json:"Description"`
		}
		dec := json.NewDecoder(bytes.NewReader(praw))
		dec.UseNumber()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("stack %s: parameter %s: %w", name, pname, err)
		}
		s.Parameters[pname] = &Parameter{Type: p.Type, Default: p.Default, Description: p.Description}
	}
	for id, r := range t.Resources {
		if r.Type == "" {
			return nil, fmt.Errorf("stack %s: resource %s has no Type", name, id)
		}
		deps, err := stringList(r.DependsOn)
		if err != nil {
			return nil, fmt.Errorf("stack %s: resource %s: DependsOn: %w", name, id, err)
		}
		for _, d := range deps {
			if _, ok := t.Resources[d]; !ok {
				return nil, fmt.Errorf("stack %s: resource %s: DependsOn names %s, which the template does not hold", name, id, d)
			}
		}
		props := r.Properties
		if props == nil {
			props = map[string]any{}
		}
		s.Resources[id] = &Resource{
			Stack: name, LogicalID: id, Type: r.Type, Properties: props, DependsOn: deps,
			Metadata: r.Metadata, Condition: r.Condition, DeletionPolicy: r.DeletionPolicy,
		}
	}
	for id, o := range t.Outputs {
		out := &Output{Value: o.Value, Description: o.Description, Condition: o.Condition}
		if o.Export != nil {
			out.Export = o.Export.Name
		}
		s.Outputs[id] = out
	}
	return s, nil
}

func newFunction(r *Resource, assets map[string]string, dir string) (*Function, error) {
	p := r.Properties
	f := &Function{
		Stack: r.Stack, LogicalID: r.LogicalID, RoleProperty: p["Role"],
		Timeout: 3, MemorySize: 128, Architectures: []string{"x86_64"},
	}
	var err error
	if f.Handler, err = optString(p, "Handler"); err != nil {
		return nil, err
	}
	if f.Runtime, err = optString(p, "Runtime"); err != nil {
		return nil, err
	}
	if f.Description, err = optString(p, "Description"); err != nil {
		return nil, err
	}
	for key, dst := range map[string]*int{"Timeout": &f.Timeout, "MemorySize": &f.MemorySize} {
		if v, ok := p[key]; ok {
			n, err := toInt(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			*dst = n
		}
	}
	if v, ok := p["Architectures"]; ok {
		if f.Architectures, err = stringList(v); err != nil {
			return nil, fmt.Errorf("Architectures: %w", err)
		}
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		if vars, ok := env["Variables"].(map[string]any); ok {
			f.Environment = vars
		}
	}
	if f.Environment == nil {
		f.Environment = map[string]any{}
	}
	if target, attr, ok := getAttTarget(p["Role"]); ok && attr == "Arn" {
		f.Role = target
	}
	if code, ok := p["Code"].(map[string]any); ok {
		if key, ok := code["S3Key"].(string); ok {
			asset, found := assets[key]
			if !found && strings.HasSuffix(key, ".zip") {
				// An assembly without asset manifests (an older CDK): the asset.<hash> convention.
				if d := filepath.Join(dir, "asset."+strings.TrimSuffix(key, ".zip")); isDir(d) {
					asset, found = d, true
				}
			}
			if found {
				if !isDir(asset) {
					return nil, fmt.Errorf("code asset %s: %s is not a directory", key, asset)
				}
				f.AssetDir = asset
			}
		}
	}
	return f, nil
}

// getAttTarget returns the logical id and attribute of a Fn::GetAtt, in either form.
func getAttTarget(v any) (target, attr string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	switch args := m["Fn::GetAtt"].(type) {
	case []any:
		if len(args) == 2 {
			t, ok1 := args[0].(string)
			a, ok2 := args[1].(string)
			return t, a, ok1 && ok2
		}
	case string:
		t, a, found := strings.Cut(args, ".")
		return t, a, found
	}
	return "", "", false
}

// addImportDependencies makes each stack depend on the stacks whose exports it imports by a literal name.
func addImportDependencies(stacks map[string]*Stack) {
	exporters := map[string]string{}
	for name, s := range stacks {
		for _, o := range s.Outputs {
			if e, ok := o.Export.(string); ok {
				exporters[e] = name
			}
		}
	}
	for name, s := range stacks {
		for _, r := range s.Resources {
			walk(r.Properties, func(fn string, args any) {
				if fn != "Fn::ImportValue" {
					return
				}
				if e, ok := args.(string); ok {
					if from, ok := exporters[e]; ok && from != name && !slices.Contains(s.Dependencies, from) {
						s.Dependencies = append(s.Dependencies, from)
					}
				}
			})
		}
	}
}

// sortStacks orders stacks so that each comes after its dependencies, keeping the manifest's order otherwise.
func sortStacks(names []string, stacks map[string]*Stack) ([]string, error) {
	var order []string
	done := map[string]bool{}
	for len(order) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] {
				continue
			}
			ready := true
			for _, d := range stacks[n].Dependencies {
				if _, known := stacks[d]; known && !done[d] {
					ready = false
					break
				}
			}
			if ready {
				order = append(order, n)
				done[n] = true
				progressed = true
				break
			}
		}
		if !progressed {
			var left []string
			for _, n := range names {
				if !done[n] {
					left = append(left, n)
				}
			}
			return nil, fmt.Errorf("stacks depend on each other in a cycle: %s", strings.Join(left, ", "))
		}
	}
	return order, nil
}

// objectKeys returns the keys of the object at top-level key field of a JSON document, in document order.
func objectKeys(raw []byte, field string) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok != field {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, fmt.Errorf("%s is not an object", field)
		}
		var keys []string
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			keys = append(keys, tok.(string))
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, err
			}
		}
		return keys, nil
	}
	return nil, nil
}

func readJSON(file string, v any) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	return nil
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// stringList reads a string or a list of strings.
func stringList(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is neither a string nor a list of strings", v)
}

func optString(p map[string]any, key string) (string, error) {
	v, ok := p[key]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is %v, not a string", key, v)
	}
	return s, nil
}
