// Package tensor provides dense row-major tensors generic over float32 and
// float64, and the destination-first operations the layers of this project
// are built from.
//
// A Tensor is a shape and a flat slice of elements; element (i, j, k) of a
// tensor of shape (a, b, c) sits at index (i·b + j)·c + k. Views (Reshape,
// Rows) share the elements of their parent. Operations write their first
// argument, never modify their inputs, and allow the destination to alias an
// input only where their comment says so. Shape mismatches are programming
// errors: they panic with a message that starts with "tensor:" and names the
// operation and the shapes.
//
// Shape legend used in the doc comments: M rows (the batch), K and N columns.
package tensor
