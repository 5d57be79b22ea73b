package test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRuntimeCodeNeverImportsCDK: handlers and command-line tools must not link the CDK, jsii or constructs
// packages (they register thousands of types at init: binaries grow and cold starts slow).
func TestRuntimeCodeNeverImportsCDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}: {{join .Deps \" \"}}", "../lambdas/...", "../cmd/...", "../lake/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, ok := strings.Cut(line, ": ")
		if !ok {
			continue // "matched no packages" warnings
		}
		checked++
		for _, dep := range strings.Fields(deps) {
			for _, banned := range []string{"github.com/aws/aws-cdk-go/", "github.com/aws/jsii-runtime-go", "github.com/aws/constructs-go/", "github.com/cdklabs/"} {
				if strings.HasPrefix(dep, banned) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no runtime package was checked")
	}
}

// TestConstructsNeverImportSDKClients: the constructs (and package contract, what they share with the handlers)
// must not link AWS SDK service clients, which every CDK app using them would compile and carry.
func TestConstructsNeverImportSDKClients(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}: {{join .Deps \" \"}}", "../constructs/...", "../contract/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		checked++
		for _, dep := range strings.Fields(deps) {
			if strings.HasPrefix(dep, "github.com/aws/aws-sdk-go-v2/service/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no construct package was checked")
	}
}
