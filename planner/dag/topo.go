package dag

import (
	"container/heap"
)

// TopoSort returns every vertex with each dependency before its dependents.
// Among vertices whose dependencies are all placed, the smallest key comes
// first, so the order is the same on every run and reads naturally in plans.
// It returns Validate's error for an invalid graph.
func (g *Graph) TopoSort() ([]string, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g.topo(true), nil
}

// topo orders the declared vertices by Kahn's algorithm, leaving out those
// on or behind a cycle or an undeclared vertex. With stable set, ties go to
// the smallest key; without it the order is whatever is cheapest, for
// callers that only need some topological order.
func (g *Graph) topo(stable bool) []string {
	waiting := make(map[string]int, len(g.vertices))
	ready := &keyHeap{}
	for k := range g.vertices {
		if n := len(g.deps[k]); n > 0 {
			waiting[k] = n
		} else {
			ready.keys = append(ready.keys, k)
		}
	}
	release := func(k string) {
		for d := range g.dependents[k] {
			waiting[d]--
			if waiting[d] == 0 {
				if stable {
					heap.Push(ready, d)
				} else {
					ready.keys = append(ready.keys, d)
				}
			}
		}
	}
	if !stable {
		// ready.keys doubles as the output queue.
		for i := 0; i < len(ready.keys); i++ {
			release(ready.keys[i])
		}
		return ready.keys
	}
	heap.Init(ready)
	order := make([]string, 0, len(g.vertices))
	for ready.Len() > 0 {
		k := heap.Pop(ready).(string)
		order = append(order, k)
		release(k)
	}
	return order
}

// keyHeap is a min-heap of keys: the tie-break that makes orders stable.
type keyHeap struct{ keys []string }

func (h *keyHeap) Len() int           { return len(h.keys) }
func (h *keyHeap) Less(i, j int) bool { return h.keys[i] < h.keys[j] }
func (h *keyHeap) Swap(i, j int)      { h.keys[i], h.keys[j] = h.keys[j], h.keys[i] }
func (h *keyHeap) Push(x any)         { h.keys = append(h.keys, x.(string)) }
func (h *keyHeap) Pop() any {
	k := h.keys[len(h.keys)-1]
	h.keys = h.keys[:len(h.keys)-1]
	return k
}
