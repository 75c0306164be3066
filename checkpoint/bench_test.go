package checkpoint

import (
	"fmt"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// BenchmarkWeights measures encoding and decoding (with the copy into the
// parameters) of float32 models of n×n weights, in memory, without the disk.
func BenchmarkWeights(b *testing.B) {
	for _, n := range []int{64, 512, 2048} {
		params := []*ad.Var[float32]{ad.NewParam("w", tensor.New[float32](n, n)), ad.NewParam("b", tensor.New[float32](n))}
		data, err := encodeWeights(params, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("encode/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeWeights(params, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("decode/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decodeWeights(data, params); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSave measures a whole checkpoint replacement on disk (encode,
// write and fsync, publish, drop the checkpoint before the previous) of a
// 256×256 float32 model, by exchange (Linux) and by two renames (the
// fallback). fsync dominates; compare the two within one run.
func BenchmarkSave(b *testing.B) {
	params := []*ad.Var[float32]{ad.NewParam("w", tensor.New[float32](256, 256)), ad.NewParam("b", tensor.New[float32](256))}
	for _, how := range []string{"exchange", "renames"} {
		b.Run(how, func(b *testing.B) {
			if how == "renames" {
				swap = func(a, b string) error { return errNoExchange }
				defer func() { swap = exchange }()
			}
			dir := b.TempDir() + "/checkpoint"
			step := int64(0)
			for b.Loop() {
				step++
				if err := Save(dir, State[float32]{Step: step, Params: params, Rule: ruleState{LR: 1 / float64(step)}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
