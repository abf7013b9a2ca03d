package vcenter_test

import (
	"context"
	"testing"
)

// BenchmarkIdentify reads the identities of 1,000 VMs (Identify), and the
// full records of 16, 100 and 1,000 of them by moref (ReadVMs), against
// vcsim: what apply's per-VM staleness check reads, to compare with
// BenchmarkDiscover.
func BenchmarkIdentify(b *testing.B) {
	s := benchSim(b, 1000)
	c := connect(b, s)
	ctx := context.Background()
	b.Run("identify", func(b *testing.B) {
		for b.Loop() {
			if _, err := c.Identify(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	inv, err := c.Identify(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{16, 100, 1000} {
		b.Run("read"+itoa(n), func(b *testing.B) {
			var refs []string
			for _, v := range inv.VMs[:n] {
				refs = append(refs, v.MoRef)
			}
			for b.Loop() {
				vms, err := c.ReadVMs(ctx, inv, refs)
				if err != nil || len(vms) != n {
					b.Fatal(err, len(vms))
				}
			}
		})
	}
}
