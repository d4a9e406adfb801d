package registry_test

import (
	"testing"

	"github.com/tagdij/tagdij/internal/receipt"
	"github.com/tagdij/tagdij/internal/registry"
	"github.com/tagdij/tagdij/internal/registry/registrytest"
)

func TestMemStoreConformance(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store { return registry.NewMemStore() })
}

// The registry's roles are the receipt's, so receipt.Role(m.Role) is the conversion.
func TestRolesAreReceiptRoles(t *testing.T) {
	pairs := []struct {
		r registry.Role
		w receipt.Role
	}{
		{registry.Alone, receipt.Alone},
		{registry.Jointly, receipt.Jointly},
		{registry.NotRegistered, receipt.NotRegistered},
	}
	for _, p := range pairs {
		if string(p.r) != string(p.w) || !receipt.Role(p.r).Valid() {
			t.Errorf("registry role %q differs from receipt role %q", p.r, p.w)
		}
	}
}
