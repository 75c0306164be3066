package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/genopt/gen/ad"
	"github.com/genopt/gen/tensor"
)

// Shapes in this file (NCHW, PyTorch's layout): images are N×C×H×W, a
// convolution weight is Out×In×K×K and its bias has Out elements.

// Conv2D is a two-dimensional convolution layer with square K×K filters,
//
//	y = conv(x, W) + b
//
// for x of shape N×In×H×W, W of shape Out×In×K×K and b of Out elements;
// see ad.Conv2D for the exact definition, stride and padding.
type Conv2D[T ad.Float] struct {
	In, Out, Kernel int
	Stride, Padding int
	Weight, Bias    *ad.Var[T]
}

var _ Module[float32] = (*Conv2D[float32])(nil)

// ConvConfig holds the optional settings of a convolution layer. The zero
// value is stride 1, no padding, with bias, Kaiming-uniform weights.
type ConvConfig struct {
	// Stride is the step between windows (0 means 1).
	Stride int
	// Padding is the zero padding on every side (default 0).
	Padding int
	// NoBias drops the bias.
	NoBias bool
	// Init draws the weights (default KaimingUniform), with fan-in In·K·K
	// and fan-out Out·K·K.
	Init Init
}

// NewConv2D returns a Conv2D layer from In to Out channels with K×K
// filters drawn from r and a zero bias.
func NewConv2D[T ad.Float](in, out, k int, cfg ConvConfig, r *rand.Rand) *Conv2D[T] {
	if in <= 0 || out <= 0 || k <= 0 || cfg.Stride < 0 || cfg.Padding < 0 {
		panic(fmt.Sprintf("nn: NewConv2D(%d, %d, %d, stride %d, padding %d): sizes must be positive", in, out, k, cfg.Stride, cfg.Padding))
	}
	stride := cfg.Stride
	if stride == 0 {
		stride = 1
	}
	c := &Conv2D[T]{
		In: in, Out: out, Kernel: k, Stride: stride, Padding: cfg.Padding,
		Weight: ad.NewParam("weight", initTensor[T](cfg.Init, in*k*k, out*k*k, r, out, in, k, k)),
	}
	if !cfg.NoBias {
		c.Bias = ad.NewParam("bias", tensor.New[T](out))
	}
	return c
}

// Forward records y = conv(x, W) + b.
func (c *Conv2D[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	return ad.Conv2D(t, x, c.Weight, c.Bias, c.Stride, c.Padding)
}

// Params returns [Weight, Bias] (or [Weight]).
func (c *Conv2D[T]) Params() []*ad.Var[T] {
	if c.Bias == nil {
		return []*ad.Var[T]{c.Weight}
	}
	return []*ad.Var[T]{c.Weight, c.Bias}
}

// fuseConv records the layers that layers starts with, when they are a
// Conv2D, a ReLU Activation and optionally a MaxPool2D whose stride is its
// window, as one ad.Conv2DReLU, and returns its output and the number of
// layers it stands for; otherwise it records nothing and returns 0. The
// fused primitive gives the same values, gradients and tangents in one
// pass over each image's product. A convolution whose input is a leaf (the
// data) is fused with its ReLU but not with the pooling: ad.LineCache moves
// such a layer's pre-activation along a line from one tangent product,
// which it cannot do through a max-pool.
func fuseConv[T ad.Float](t *ad.Tape[T], x *ad.Var[T], layers []Module[T]) (*ad.Var[T], int) {
	if len(layers) < 2 {
		return nil, 0
	}
	c, ok := layers[0].(*Conv2D[T])
	if !ok {
		return nil, 0
	}
	if a, ok := layers[1].(Activation[T]); !ok || a.Act.Kind != ad.ReLU {
		return nil, 0
	}
	if len(layers) > 2 && x.Op() != nil {
		if p, ok := layers[2].(MaxPool2D[T]); ok && (p.Stride == 0 || p.Stride == p.Kernel) && p.Kernel >= 1 {
			return ad.Conv2DReLU(t, x, c.Weight, c.Bias, c.Stride, c.Padding, p.Kernel), 3
		}
	}
	return ad.Conv2DReLU(t, x, c.Weight, c.Bias, c.Stride, c.Padding, 0), 2
}

// MaxPool2D takes the maximum over Kernel×Kernel windows moved by Stride
// (0 means Stride = Kernel, PyTorch's default); see ad.MaxPool2D for the
// definition and the convention at ties. It has no parameters.
type MaxPool2D[T ad.Float] struct{ Kernel, Stride int }

var _ Module[float32] = MaxPool2D[float32]{}

// Forward records the pooling.
func (m MaxPool2D[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	s := m.Stride
	if s == 0 {
		s = m.Kernel
	}
	return ad.MaxPool2D(t, x, m.Kernel, s)
}

// Params returns nil.
func (MaxPool2D[T]) Params() []*ad.Var[T] { return nil }

// Flatten reshapes N×d1×d2×… to N×(d1·d2·…), keeping the leading (batch)
// dimension. It has no parameters.
type Flatten[T ad.Float] struct{}

var _ Module[float32] = Flatten[float32]{}

// Forward records the reshape (a copy; see ad.Reshape). A value that is
// already N×K is returned as is.
func (Flatten[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] {
	if x.Value.Rank() == 2 {
		return x
	}
	return ad.Reshape(t, x, x.Value.Rows(), -1)
}

// Params returns nil.
func (Flatten[T]) Params() []*ad.Var[T] { return nil }

// Dropout zeroes each element with probability P while the tape trains and
// scales the others by 1/(1−P); see ad.Dropout for the mask replay the
// GeN line probes rely on. It has no parameters.
type Dropout[T ad.Float] struct{ P float64 }

var _ Module[float32] = Dropout[float32]{}

// Forward records the dropout.
func (d Dropout[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] { return ad.Dropout(t, x, d.P) }

// Params returns nil.
func (Dropout[T]) Params() []*ad.Var[T] { return nil }

// LogSoftmax maps logits (M×C) to log-probabilities, row by row,
// y_ij = z_ij − logΣ_k exp z_ik, for the NLL loss. It has no parameters.
type LogSoftmax[T ad.Float] struct{}

var _ Module[float32] = LogSoftmax[float32]{}

// Forward records the log-softmax.
func (LogSoftmax[T]) Forward(t *ad.Tape[T], x *ad.Var[T]) *ad.Var[T] { return ad.LogSoftmax(t, x) }

// Params returns nil.
func (LogSoftmax[T]) Params() []*ad.Var[T] { return nil }

// CNNConfig describes the shallow image classifier of the source text's
// author's MNIST example (itself PyTorch's MNIST example):
//
//	conv 3×3 (In→Conv1) → ReLU → conv 3×3 (Conv1→Conv2) → ReLU → max-pool 2×2
//	→ dropout(Dropout1) → flatten → linear (→Hidden) → ReLU → dropout(Dropout2)
//	→ linear (→Classes) [→ log-softmax]
//
// The zero value is a cheap default for 1×28×28 images and 10 classes,
// sized to train on two CPU cores: Conv1 = 8, Conv2 = 16, Hidden = 64,
// which is 0.15 M parameters and 0.86 M multiply-adds per image. The
// original sizes are Conv1 = 32, Conv2 = 64, Hidden = 128: 1.2 M parameters
// (flatten width 9216) and 12 M multiply-adds per image, 14 times the
// cost.
type CNNConfig struct {
	// In, Height, Width describe the input images (default 1, 28, 28).
	In, Height, Width int
	// Conv1 and Conv2 are the channel counts of the convolutions
	// (default 8 and 16).
	Conv1, Conv2 int
	// Hidden is the width of the hidden linear layer (default 64).
	Hidden int
	// Classes is the number of outputs (default 10).
	Classes int
	// Dropout1 and Dropout2 are the drop probabilities after the pooling
	// and after the hidden layer (default 0.25 and 0.5, as the original).
	Dropout1, Dropout2 float64
	// NoDropout leaves both dropout layers out.
	NoDropout bool
	// LogSoftmax ends the network with a log-softmax (for the nll loss);
	// by default it outputs logits (for the ce loss).
	LogSoftmax bool
	// Init draws the weights (default KaimingUniform).
	Init Init
}

func (c CNNConfig) withDefaults() CNNConfig {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.In, 1)
	def(&c.Height, 28)
	def(&c.Width, 28)
	def(&c.Conv1, 8)
	def(&c.Conv2, 16)
	def(&c.Hidden, 64)
	def(&c.Classes, 10)
	if c.Dropout1 == 0 {
		c.Dropout1 = 0.25
	}
	if c.Dropout2 == 0 {
		c.Dropout2 = 0.5
	}
	return c
}

// NewCNN builds the network of CNNConfig as a Sequential. Its parameters
// are named like the PyTorch model's positions: "0.weight", "0.bias" (first
// convolution), "2.*" (second), then the two linear layers. It expects
// N×In×Height×Width inputs and outputs N×Classes.
func NewCNN[T ad.Float](cfg CNNConfig, r *rand.Rand) *Sequential[T] {
	c := cfg.withDefaults()
	oh, ow := (c.Height-4)/2, (c.Width-4)/2
	if oh < 1 || ow < 1 {
		panic(fmt.Sprintf("nn: NewCNN: %d×%d images are too small for two 3×3 convolutions and a 2×2 pooling", c.Height, c.Width))
	}
	relu := Activation[T]{Act: ad.Act{Kind: ad.ReLU}}
	layers := []Module[T]{
		NewConv2D[T](c.In, c.Conv1, 3, ConvConfig{Init: c.Init}, r), relu,
		NewConv2D[T](c.Conv1, c.Conv2, 3, ConvConfig{Init: c.Init}, r), relu,
		MaxPool2D[T]{Kernel: 2},
	}
	if !c.NoDropout {
		layers = append(layers, Dropout[T]{P: c.Dropout1})
	}
	layers = append(layers, Flatten[T]{}, NewLinear[T](c.Conv2*oh*ow, c.Hidden, true, c.Init, r), relu)
	if !c.NoDropout {
		layers = append(layers, Dropout[T]{P: c.Dropout2})
	}
	layers = append(layers, NewLinear[T](c.Hidden, c.Classes, true, c.Init, r))
	if c.LogSoftmax {
		layers = append(layers, LogSoftmax[T]{})
	}
	return NewSequential(layers...)
}
