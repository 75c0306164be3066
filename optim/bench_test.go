package optim

import (
	"fmt"
	"testing"

	"github.com/genopt/gen/tensor"
)

// BenchmarkDirection measures one Direction call on n float32 parameters in
// four tensors (the size of the project's MLPs is about 2e5), with clipping
// on so that the global-norm pass is included, against a naive reference:
// one pass that only copies the gradient (the memory-traffic floor is about
// three such passes for Adam: read θ, g, m, v, write m, v, u).
func BenchmarkDirection(b *testing.B) {
	for _, n := range []int{1 << 12, 200_000} {
		for _, name := range append(append([]string{"copy"}, Names()...), PeerNames()...) {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				var params, grads, u []*tensor.Tensor[float32]
				for range 4 {
					params = append(params, tensor.New[float32](n/4))
					grads = append(grads, tensor.New[float32](n/4))
					u = append(u, tensor.New[float32](n/4))
				}
				for i := range grads {
					for j := range grads[i].Data() {
						grads[i].Data()[j] = float32(j%7) - 3
						params[i].Data()[j] = float32(j%5) * 0.1
					}
				}
				b.SetBytes(int64(4 * n))
				b.ReportAllocs()
				if name == "copy" {
					for b.Loop() {
						for i := range u {
							copy(u[i].Data(), grads[i].Data())
						}
					}
					return
				}
				o, err := New[float32](name, Common{ClipNorm: 1})
				if err != nil {
					b.Fatal(err)
				}
				o.Direction(u, params, grads)
				for b.Loop() {
					o.Direction(u, params, grads)
				}
			})
		}
	}
}
