// Package peer holds learning-rate rules that compete with the generalized
// Newton's method (GeN) and use the same line
//
//	g(α) = f(θ − α·u),   g(0) = f(θ),   g'(0) = −∇f·u,
//
// that a gen.Rule sees, so that they run in the same training loop:
//
//   - SPS, the stochastic Polyak step size (Loizou et al., AISTATS 2021),
//     α = (f − f*)/(c·∇f·u), which for the SGD direction u = ∇f is the
//     published (f − f*)/(c‖∇f‖²);
//   - SLS, the stochastic Armijo line search (Vaswani et al., NeurIPS 2019),
//     which backtracks α until g(α) ≤ g(0) − c·α·(∇f·u);
//   - Trust, a wrapper around a GeN rule that compares the decrease measured
//     at the chosen step with the decrease its quadratic model predicted and
//     scales later steps by a factor κ (a trust-region ratio test; Nocedal &
//     Wright, "Numerical Optimization", 2nd ed., Algorithm 4.1), prototyped
//     here as a remedy for GeN's greedy-step bias.
//
// Both published methods are defined on the gradient's own batch: run them
// with probe.Same, where g(0) is the training loss and ∇f·u costs one dot
// product (gen.Sloper). On another batch they still run, at the price of a
// jet sweep for the slope.
//
// The other learning-rate-free peers — D-Adaptation, Prodigy, DoG — change
// the direction rather than the step and live in package optim.
package peer
