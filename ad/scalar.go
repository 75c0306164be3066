package ad

// scalar64 is implemented by primitives that accumulate their scalar output
// in float64 (the losses): their value is known to more digits than the
// element type holds.
type scalar64 interface{ value64() float64 }

// tangent64 is implemented by the loss primitives that also accumulate the
// first and second tangents of their scalar output in float64: jet64 returns
// them as computed by the primitive's last Jet, before rounding to T.
type tangent64 interface{ jet64() (d1, d2 float64) }

// Scalar returns the value of a one-element v as float64: the float64
// accumulation of a loss primitive when v is one (so that float32 training
// still sees differences of nearby losses to float64 accuracy), and the
// element converted otherwise.
func Scalar[T Float](v *Var[T]) float64 {
	if s, ok := v.op.(scalar64); ok {
		return s.value64()
	}
	return float64(v.Value.Item())
}
