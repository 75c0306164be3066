// Package ad is the differentiation engine: a tape that records the forward
// computation, reverse mode (Backward) for gradients, and a second-order
// forward replay (Jet) that returns, for a direction u on the parameters,
//
//	f,   ∇f·u,   uᵀHu
//
// exactly, where H is the Hessian of the recorded scalar f with respect to
// the parameters.
//
// Every operation is a primitive: one Go type with its forward rule, its
// vector–Jacobian product (VJP, reverse rule) and its jet rule side by side,
// enforced by the Primitive interface. The set is closed: layers and losses
// are compositions of these primitives.
//
// # The jet
//
// Along the line θ(α) = θ + α·u every recorded value x becomes a function of
// α with value x, first derivative ẋ and second derivative ẍ at α = 0.
// Parameters carry ẋ = u and ẍ = 0; data carries zeros, which are not
// stored and cost nothing. Each rule maps its inputs' (x, ẋ, ẍ) to its
// output's, by the chain rule to second order:
//
//	y = φ(x):   ẏ = φ'(x)·ẋ,   ÿ = φ'(x)·ẍ + φ″(x)[ẋ, ẋ]
//
// The term φ″(x)[ẋ, ẋ] is the primitive's own curvature. At the scalar
// output, (f, ḟ, f̈) = (f, ∇f·u, uᵀHu). With the Gauss–Newton option, model
// primitives drop their own curvature while the loss primitives keep theirs,
// which yields uᵀGu, where G = Jᵀ H_loss J (Schraudolph, "Fast curvature
// matrix-vector products for second-order gradient descent", Neural
// Computation 14(7), 2002; Martens, "New insights and perspectives on the
// natural gradient method", JMLR 21, 2020). G is positive semi-definite
// when the recorded scalar is a squared error, SoftmaxCrossEntropy or NLL
// of LogSoftmax applied to the model's output. Which primitives count as
// loss is fixed per primitive, not by where they sit: LogSoftmax keeps its
// curvature also inside the network or in front of a squared error, where
// G can be indefinite, and a loss built from generic primitives (Sub, Mul,
// Sum) counts as model, so its curvature is dropped (see GaussNewton).
//
// # Buffers
//
// A Tape is reused across steps: Reset rewinds it, and recording the same
// computation again reuses, position by position, the nodes, their value,
// gradient and tangent buffers and the primitives' scratch. Steady-state
// training therefore does not allocate in proportion to the model.
//
// # Kinks
//
// Piecewise-linear primitives use the one-sided convention at their kinks:
// ReLU'(0) = 0 (as PyTorch), LeakyReLU'(0) = slope, and a max-pool window
// with tied maxima routes its gradient and tangents to the first maximum in
// row-major order. Second derivatives of piecewise-linear functions are 0.
package ad
