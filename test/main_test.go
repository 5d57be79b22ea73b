// Package test holds the snapshot, nag, lint and integration tests of the constructs and of the blueprint app.
package test

import (
	"testing"

	"github.com/eventlake/eventlake/test/moto"
)

func TestMain(m *testing.M) { moto.Main(m) }
