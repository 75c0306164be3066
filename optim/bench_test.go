package optim

import (
	"encoding/json"
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

// BenchmarkStateJSON writes the state of Adam on the MNIST MLP's 203 530
// parameters (two buffers, 4.3 MB of JSON) with State.MarshalJSON, and
// through json.Marshal, which validates and compacts a Marshaler's output
// once more (what checkpoint.Save avoids):
//
//	go test -run NONE -bench StateJSON ./optim/
func BenchmarkStateJSON(b *testing.B) {
	sizes := []int{256 * 784, 256, 10 * 256, 10}
	s := State{Kind: "adam", Step: 1407, Buffers: map[string][][]float64{}}
	for _, name := range []string{"m", "v"} {
		for _, n := range sizes {
			buf := make([]float64, n)
			for i := range buf {
				buf[i] = float64(i%977) * 1.1e-7
			}
			s.Buffers[name] = append(s.Buffers[name], buf)
		}
	}
	for _, via := range []string{"MarshalJSON", "json.Marshal"} {
		b.Run(via, func(b *testing.B) {
			for b.Loop() {
				var err error
				if via == "MarshalJSON" {
					_, err = s.MarshalJSON()
				} else {
					_, err = json.Marshal(s)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
