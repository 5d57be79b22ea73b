package cfn

import (
	"fmt"
	"os"
	"testing"
)

// AssemblyDir returns the cloud assembly that tests of the synthesized blueprint run: $EVENTLAKE_ASSEMBLY (`make test`
// sets it to the cdk.out it has just synthesized). When it is not set the test fails under CI=true and is skipped,
// loudly, otherwise.
func AssemblyDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("EVENTLAKE_ASSEMBLY")
	if dir == "" {
		msg := "EVENTLAKE_ASSEMBLY is not set: `make test` sets it; or run `cdk synth --quiet -o DIR` and set EVENTLAKE_ASSEMBLY=DIR"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING %s: %s ***\n\n", t.Name(), msg)
		t.Skip(msg)
	}
	return dir
}
