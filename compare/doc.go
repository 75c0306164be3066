// Package compare answers the question the GeN paper leaves open — does a
// learning rate chosen by the generalized Newton's method train faster? —
// with a reproducible suite of training runs and a report.
//
// A Suite is tasks × methods × seeds. For every task it runs, through
// train.Run in this process:
//
//   - a grid of 7 log-spaced constant learning rates for SGD and for Adam on
//     the first seed (what a user would otherwise do), then the best of each
//     grid on the other seeds, and cosine decay from the best peak;
//   - GeN, approximate and exact, on SGD and on Adam, with default settings;
//   - the learning-rate-free peers with their published defaults:
//     D-Adaptation (Adam and SGD), Prodigy, DoG (package optim) and the
//     stochastic Polyak step and Armijo line search (package peer);
//   - optionally GeN sensitivity variants and remedies for its greedy-step
//     bias (package peer's Trust, horizon factors, the authors' clip).
//
// Measures (see Result): the final training loss, a trailing mean of the
// batch losses over the last Window steps; test loss and accuracy; the
// steps and seconds until that trailing mean first reaches the task's
// target, 1.05 × the best final loss of the constant-rate grid; and the
// forward, backward and jet passes spent.
//
// Report writes a Markdown report with tables and PNG charts, plus the raw
// metrics (runs.csv, curves.csv); every row names the `gen train` command
// that reproduces it. The `gen compare` command runs a suite and writes the
// report; nothing in `go test` runs more than a tiny suite.
package compare
