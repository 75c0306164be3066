// Package nn provides the layers of the networks this project trains —
// Linear, activations, Conv2D, MaxPool2D, Flatten, Dropout, Embedding,
// LogSoftmax and Sequential — and the builders NewMLP, NewCNN (the source
// text's author's shallow MNIST CNN, smaller by default) and NewCharMLP (a
// character-level language model), as compositions of the primitives of
// package ad, so that every layer has gradients and an exact jet for free.
//
// A layer is a Module: it records its forward computation on an ad.Tape and
// lists its parameters (ad.Var leaves with names such as "0.weight" and
// shapes in PyTorch's layout). Parameters are initialized from an explicit
// *rand.Rand, so a seed fixes a model.
package nn
