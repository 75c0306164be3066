package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

func TestParamNamesAndShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name  string
		model Module[float32]
		want  []ParamInfo
	}{
		{"cnn default", NewCNN[float32](CNNConfig{}, r), []ParamInfo{
			{"0.weight", []int{8, 1, 3, 3}}, {"0.bias", []int{8}},
			{"2.weight", []int{16, 8, 3, 3}}, {"2.bias", []int{16}},
			{"7.weight", []int{64, 2304}}, {"7.bias", []int{64}},
			{"10.weight", []int{10, 64}}, {"10.bias", []int{10}},
		}},
		{"cnn original sizes, no dropout", NewCNN[float32](CNNConfig{Conv1: 32, Conv2: 64, Hidden: 128, NoDropout: true, LogSoftmax: true}, r), []ParamInfo{
			{"0.weight", []int{32, 1, 3, 3}}, {"0.bias", []int{32}},
			{"2.weight", []int{64, 32, 3, 3}}, {"2.bias", []int{64}},
			{"6.weight", []int{128, 9216}}, {"6.bias", []int{128}},
			{"8.weight", []int{10, 128}}, {"8.bias", []int{10}},
		}},
		{"charmlp", NewCharMLP[float32](CharMLPConfig{Vocab: 27, Context: 3}, r), []ParamInfo{
			{"0.weight", []int{27, 10}},
			{"1.weight", []int{200, 30}}, {"1.bias", []int{200}},
			{"3.weight", []int{27, 200}}, {"3.bias", []int{27}},
		}},
		{"mlp", NewMLP[float32](MLPConfig{In: 10, Out: 1, Hidden: []int{64, 32}}, r), []ParamInfo{
			{"0.weight", []int{64, 10}}, {"0.bias", []int{64}},
			{"2.weight", []int{32, 64}}, {"2.bias", []int{32}},
			{"4.weight", []int{1, 32}}, {"4.bias", []int{1}},
		}},
		{"conv without bias", NewSequential[float32](NewConv2D[float32](3, 4, 5, ConvConfig{NoBias: true, Stride: 2}, r)), []ParamInfo{
			{"0.weight", []int{4, 3, 5, 5}},
		}},
	} {
		got := Describe(c.model.Params())
		if !slices.EqualFunc(got, c.want, func(a, b ParamInfo) bool { return a.Name == b.Name && slices.Equal(a.Shape, b.Shape) }) {
			t.Errorf("%s: parameters %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCNNOutputShape runs the default CNN and the char model forward.
func TestCNNOutputShape(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cnn := NewCNN[float32](CNNConfig{}, r)
	tape := &ad.Tape[float32]{Train: true, Rand: r}
	y := cnn.Forward(tape, tape.Const(tensor.New[float32](2, 1, 28, 28)))
	if !slices.Equal(y.Shape(), []int{2, 10}) {
		t.Errorf("CNN output shape %v, want [2 10]", y.Shape())
	}
	char := NewCharMLP[float32](CharMLPConfig{Vocab: 5, Context: 4, Embed: 2, Hidden: []int{7}}, r)
	x := tensor.FromSlice([]float32{0, 1, 2, 3, 4, 4, 4, 0}, 2, 4)
	tape.Reset()
	if y := char.Forward(tape, tape.Const(x)); !slices.Equal(y.Shape(), []int{2, 5}) {
		t.Errorf("char MLP output shape %v, want [2 5]", y.Shape())
	}
}

func TestSnapshotRestoreBitForBit(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	m := NewCNN[float64](CNNConfig{Conv1: 2, Conv2: 3, Hidden: 4, Height: 8, Width: 8}, r)
	params := m.Params()
	snap := Snapshot(params)
	orig := Snapshot(params)
	for _, p := range params {
		for i := range p.Value.Data() {
			p.Value.Data()[i] = math.NaN()
		}
	}
	Restore(params, snap)
	for i, p := range params {
		for j, v := range p.Value.Data() {
			if math.Float64bits(v) != math.Float64bits(orig[i].Data()[j]) {
				t.Fatalf("%s[%d] restored as %v, snapshot held %v", p.Name, j, v, orig[i].Data()[j])
			}
		}
	}
	// The snapshot is a deep copy: changing a parameter leaves it alone.
	params[0].Value.Data()[0] += 1
	if snap[0].Data()[0] == params[0].Value.Data()[0] {
		t.Error("Snapshot shares storage with the parameter")
	}
	buf := Snapshot(params)
	Restore(params, orig)
	SaveTo(buf, params)
	for i := range buf {
		if !slices.Equal(buf[i].Data(), orig[i].Data()) {
			t.Errorf("SaveTo of %s differs from the parameter", params[i].Name)
		}
	}
}

// TestInitStatistics draws large layers and compares the sample mean and
// variance with each initializer's law.
func TestInitStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const in, out = 300, 200 // 60 000 draws
	for _, c := range []struct {
		init    Init
		wantVar float64
	}{
		{KaimingUniform, 2.0 / in}, // U(−b, b), b² = 6/in, variance b²/3
		{KaimingNormal, 2.0 / in},
		{XavierUniform, 2.0 / (in + out)},
		{XavierNormal, 2.0 / (in + out)},
	} {
		l := NewLinear[float64](in, out, true, c.init, r)
		w := l.Weight.Value.Data()
		var s, ss float64
		for _, v := range w {
			s += v
			ss += v * v
		}
		n := float64(len(w))
		mean, variance := s/n, ss/n-(s/n)*(s/n)
		sd := math.Sqrt(c.wantVar)
		// With 60 000 draws the sample mean has sd σ/245 and the sample
		// variance a relative sd below √(2/n) ≈ 0.6 %: bounds of 5 sd.
		if math.Abs(mean) > 5*sd/math.Sqrt(n) {
			t.Errorf("%v: mean %.3g, want 0 ± %.2g", c.init, mean, 5*sd/math.Sqrt(n))
		}
		if math.Abs(variance/c.wantVar-1) > 0.03 {
			t.Errorf("%v: variance %.4g, want %.4g ± 3 %%", c.init, variance, c.wantVar)
		}
		if tensor.MaxAbs(l.Bias.Value) != 0 {
			t.Errorf("%v: bias not zero", c.init)
		}
	}
	// Conv2D uses fan-in In·K·K.
	conv := NewConv2D[float64](16, 32, 3, ConvConfig{Init: KaimingNormal}, r)
	var ss float64
	for _, v := range conv.Weight.Value.Data() {
		ss += v * v
	}
	want := 2.0 / (16 * 9)
	if got := ss / float64(conv.Weight.Value.Len()); math.Abs(got/want-1) > 0.1 { // 4608 normal draws: relative sd √(2/4608) ≈ 2.1 %, 5 sd
		t.Errorf("Conv2D Kaiming-normal second moment %.4g, want %.4g", got, want)
	}
	emb := NewEmbedding[float64](100, 50, r)
	ss = 0
	for _, v := range emb.Weight.Value.Data() {
		ss += v * v
	}
	if got := ss / 5000; math.Abs(got-1) > 0.1 { // 5000 N(0,1) draws: sd of the mean square 2 %, 5 sd
		t.Errorf("Embedding second moment %.4g, want 1", got)
	}
}

func TestSequentialNaming(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	inner := NewSequential[float32](NewLinear[float32](2, 3, true, KaimingUniform, r), Activation[float32]{Act: ad.Act{Kind: ad.Tanh}}, NewLinear[float32](3, 1, false, KaimingUniform, r))
	outer := NewSequential[float32](NewEmbedding[float32](4, 2, r), inner)
	var names []string
	for _, p := range outer.Params() {
		names = append(names, p.Name)
	}
	if want := []string{"0.weight", "1.0.weight", "1.0.bias", "1.2.weight"}; !slices.Equal(names, want) {
		t.Errorf("nested Sequential names %v, want %v", names, want)
	}
	if n := NumParams(outer.Params()); n != 8+6+3+3 {
		t.Errorf("NumParams %d, want 20", n)
	}
}

func TestEmbeddingRejectsNonIndices(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Embedding accepted the index 1.5")
		}
	}()
	e := NewEmbedding[float32](4, 2, rand.New(rand.NewPCG(1, 1)))
	tape := &ad.Tape[float32]{}
	e.Forward(tape, tape.Const(tensor.FromSlice([]float32{1.5}, 1, 1)))
}
