package numcheck_test

import (
	"fmt"
	"math"

	"github.com/genopt/gen/internal/numcheck"
)

// The derivatives of cos at 0 are cos'(0) = 0 and cos″(0) = −1.
func Example() {
	d1 := numcheck.FirstDerivative(math.Cos, 1e-2)
	d2 := numcheck.SecondDerivative(math.Cos, 1e-2)
	fmt.Printf("cos'(0) ≈ %.9f, cos″(0) ≈ %.9f\n", math.Abs(d1), d2)
	// Output: cos'(0) ≈ 0.000000000, cos″(0) ≈ -1.000000000
}
