package planner

import (
	"encoding/json"

	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/zclconf/go-cty/cty"
)

// ctyDisplay renders a variable value for a plan file: strings as is,
// everything else as JSON.
func ctyDisplay(v cty.Value) string {
	if v.IsNull() {
		return "null"
	}
	if v.Type() == cty.String {
		return v.AsString()
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	var out any
	if json.Unmarshal(b, &out) == nil {
		b, _ = json.Marshal(out)
	}
	return string(b)
}
