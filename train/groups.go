package train

import (
	"strings"

	"github.com/genopt/gen/ad"
)

// layerGroups assigns each parameter to its layer: parameters named
// "L.weight", "L.bias", … (the nn convention) share the group of their
// prefix L, in order of first appearance. It returns the group of every
// parameter and the number of groups.
func layerGroups[T ad.Float](params []*ad.Var[T]) ([]int, int) {
	index := map[string]int{}
	group := make([]int, len(params))
	for i, p := range params {
		layer := p.Name
		if j := strings.LastIndexByte(layer, '.'); j >= 0 {
			layer = layer[:j]
		}
		g, ok := index[layer]
		if !ok {
			g = len(index)
			index[layer] = g
		}
		group[i] = g
	}
	return group, len(index)
}
