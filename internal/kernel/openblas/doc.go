// Package openblas binds cblas_sgemm and cblas_dgemm from OpenBLAS through
// cgo. It exists for two uses only: the speed reference of the benchmark
// (scripts/bench-gemm) and a second oracle for the kernel tests. The binding
// is compiled only with the openblas build tag (Debian: apt-get install
// libopenblas-dev); without it Available is false and the functions panic,
// so the default build needs neither cgo nor OpenBLAS.
package openblas
