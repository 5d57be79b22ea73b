// Package test holds the snapshot, nag, lint and integration tests of the constructs and of the blueprint app.
package test

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/eventlake/eventlake/test/moto"
)

// TestMain stops the moto server and the jsii runtime (a Node process and its directory under the system's temporary
// directory) when the tests end.
func TestMain(m *testing.M) {
	code := moto.Run(m)
	jsii.Close()
	os.Exit(code)
}
