// Package loss selects the training loss by name and records it on an
// ad.Tape, so that a trainer and the command line name a loss once and get
// its value, gradient (ad.Tape.Backward) and curvature (ad.Tape.Jet).
//
// The four losses, for M examples:
//
//	mse      1/(M·K) · Σ_ij (ŷ_ij − y_ij)²              PyTorch's MSELoss (mean)
//	half-sq  1/(2M)  · Σ_i ‖ŷ_i − y_i‖²                  the GeN source text's loss
//	ce       1/M · Σ_i (logΣ_j exp z_ij − z_i,label_i)    softmax cross-entropy from logits, fused
//	nll      −1/M · Σ_i logp_i,label_i                    on log-probabilities (end the model with nn.LogSoftmax)
//
// ce and nll are classifications (integer labels); mse and half-sq are
// regressions (a target tensor of the prediction's shape).
package loss
