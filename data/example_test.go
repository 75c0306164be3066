package data_test

import (
	"fmt"
	"strings"

	"github.com/genopt/gen/data"
)

// A small classification table read from memory, split 4/2 (seed 1), kept
// raw, and walked in shuffled batches of 2 as float64 tensors.
func Example() {
	table := `height,weight,kind
1.0,10,cat
2.0,30,dog
1.25,12,cat
2.25,35,dog
0.75,9,cat
2.5,40,dog
`
	sp, err := data.ReadCSV(strings.NewReader(table), "pets.csv",
		data.CSVOptions{TestFraction: 1.0 / 3, Seed: 1, Raw: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("classes:", sp.Train.ClassNames, "train:", sp.Train.Len(), "test:", sp.Test.Len())

	loader := data.NewLoader(sp.Train, data.LoaderOptions{BatchSize: 2, Seed: 7})
	var batch data.Batch[float64]
	for range loader.BatchesPerEpoch() {
		pos := data.NextBatch(loader, &batch)
		fmt.Println(pos, batch.X.Shape(), batch.X.Data(), batch.Labels)
	}
	fmt.Println("next:", loader.Position())
	// Output:
	// classes: [cat dog] train: 4 test: 2
	// {0 0} [2 2] [2 30 2.5 40] [1 1]
	// {0 2} [2 2] [1.25 12 2.25 35] [0 1]
	// next: {1 0}
}
