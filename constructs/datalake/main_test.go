package datalake_test

import (
	"testing"

	"github.com/eventlake/eventlake/test/cdktest"
)

// TestMain closes the jsii runtime when the tests end, so no Node process or temporary directory outlives them.
func TestMain(m *testing.M) { cdktest.Main(m) }
