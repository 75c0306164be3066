package compare_test

import (
	"fmt"

	"github.com/genopt/gen/compare"
	"github.com/genopt/gen/train"
)

// Each run of a suite is a train.Config; Command gives the gen command
// line that reproduces it, as the report prints it.
func Example() {
	fmt.Println(compare.LogGrid(1e-4, 1e-1, 7))
	cfg := train.Config{Hidden: []int{}, Steps: 300, Seed: 1}
	for _, m := range compare.GeNMethods()[:2] {
		c := cfg
		m.Set(&c)
		fmt.Printf("%s: %s\n", m.Name, compare.Command(c))
	}
	// Output:
	// [0.0001 0.000316 0.001 0.00316 0.01 0.0316 0.1]
	// GeN-SGD: gen train --hidden= --opt sgd --lr gen --steps 300 --seed 1
	// GeN-exact-SGD: gen train --hidden= --opt sgd --lr gen-exact --steps 300 --seed 1
}
