// Package cdktest helps the tests of CDK code written in Go. The CDK's Go bindings run through jsii, which starts a
// Node process with a directory of its own under the system's temporary directory; a test binary that never calls
// jsii.Close leaves both behind. Make Main the package's TestMain:
//
//	func TestMain(m *testing.M) { cdktest.Main(m) }
package cdktest

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// Main runs the package's tests, closes the jsii runtime, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
