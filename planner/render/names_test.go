package render

import (
	"fmt"
	"reflect"
	"testing"
)

func TestCompactNames(t *testing.T) {
	var wave []string
	for i := 1; i <= 400; i++ {
		wave = append(wave, fmt.Sprintf(`vm.wave["web-%04d"]`, i))
	}
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"vm.db", "vm.app"}, []string{"vm.db", "vm.app"}},
		{append(wave, `vm.wave["db-01"]`, "vm.solo", `vm.wave["db-02"]`), []string{`vm.wave["web-0001" … "web-0400", "db-01", "db-02"]`, "vm.solo"}},
		{[]string{`vm.a["x1"]`, `vm.a["x2"]`, `vm.a["x3"]`, `vm.a["x5"]`, `vm.a["y6"]`, `vm.a["09"]`, `vm.a["10"]`}, []string{`vm.a["x1" … "x3", "x5", "y6", "09", "10"]`}},
		{[]string{`vm.a["x9"]`, `vm.a["x10"]`, `vm.a[1]`, `vm.a[2]`, `vm.a[3]`}, []string{`vm.a["x9", "x10", 1 … 3]`}},
	} {
		if got := compactNames(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("compactNames(%d names) = %q, want %q", len(tc.in), got, tc.want)
		}
	}
}
