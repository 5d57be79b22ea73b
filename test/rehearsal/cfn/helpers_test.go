package cfn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testStack is a stack of a hand-written cloud assembly.
type testStack struct {
	name     string
	deps     []string
	template string
	// assets are the hashes of the zip file assets the stack's functions use; each gets an asset.<hash> directory
	// with a bootstrap file.
	assets []string
}

// writeAssembly writes a cloud assembly the way `cdk synth` does: manifest.json with one stack artifact and one
// asset-manifest artifact per stack (in the order given), the templates, the asset manifests and the asset
// directories. It returns the directory.
func writeAssembly(t *testing.T, stacks ...testStack) string {
	t.Helper()
	dir := t.TempDir()
	type artifact struct {
		Type         string         `json:"type"`
		Properties   map[string]any `json:"properties,omitempty"`
		Dependencies []string       `json:"dependencies,omitempty"`
	}
	var manifest struct {
		Version   string           `json:"version"`
		Artifacts orderedArtifacts `json:"artifacts"`
	}
	manifest.Version = "54.0.0"
	for _, s := range stacks {
		var tmpl any
		if err := json.Unmarshal([]byte(s.template), &tmpl); err != nil {
			t.Fatalf("template of %s: %v", s.name, err)
		}
		write(t, filepath.Join(dir, s.name+".template.json"), s.template)
		files := map[string]any{}
		for _, h := range s.assets {
			write(t, filepath.Join(dir, "asset."+h, "bootstrap"), "#!/bin/sh\n")
			files[h] = map[string]any{
				"source": map[string]any{"path": "asset." + h, "packaging": "zip"},
				"destinations": map[string]any{"current_account-current_region": map[string]any{
					"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}", "objectKey": h + ".zip",
				}},
			}
		}
		am, _ := json.Marshal(map[string]any{"version": "54.0.0", "files": files})
		write(t, filepath.Join(dir, s.name+".assets.json"), string(am))
		manifest.Artifacts = append(manifest.Artifacts,
			namedArtifact{s.name + ".assets", artifact{Type: "cdk:asset-manifest", Properties: map[string]any{"file": s.name + ".assets.json"}}},
			namedArtifact{s.name, artifact{
				Type: "aws:cloudformation:stack", Properties: map[string]any{"templateFile": s.name + ".template.json"},
				Dependencies: append([]string{s.name + ".assets"}, s.deps...),
			}},
		)
	}
	raw, err := json.Marshal(manifest)
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "manifest.json"), string(raw))
	return dir
}

type namedArtifact struct {
	name string
	art  any
}

// orderedArtifacts marshals as a JSON object that keeps the artifacts' order.
type orderedArtifacts []namedArtifact

func (o orderedArtifacts) MarshalJSON() ([]byte, error) {
	out := []byte("{")
	for i, a := range o {
		if i > 0 {
			out = append(out, ',')
		}
		k, _ := json.Marshal(a.name)
		v, err := json.Marshal(a.art)
		if err != nil {
			return nil, err
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustJSON decodes a JSON document the way Load does (numbers as json.Number).
func mustJSON(t *testing.T, doc string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	return v
}
