package schema

import (
	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"
)

func parseJSON(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	return hcljson.Parse(src, name)
}
