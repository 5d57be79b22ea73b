package cfn

import (
	"testing"

	"github.com/eventlake/eventlake/test/moto"
)

// TestMain stops the moto server the tests started, if any.
func TestMain(m *testing.M) { moto.Main(m) }
