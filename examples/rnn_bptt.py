"""Backpropagation through time, written by srcad.

A tanh recurrent network runs over a sequence with an ordinary Python ``for``
loop; the loss is the squared distance between its last hidden state and a
target.  srcad turns the loop into a forward sweep that pushes each
overwritten hidden state on a stack and a reverse sweep that walks the time
steps backwards, accumulating the gradients of the shared weights: the BPTT
one would write by hand.  The generated code is printed once, then a few
steps of SGD show the loss falling.

Run:  python examples/rnn_bptt.py
"""

import pathlib
import sys
import time

import numpy as np

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def loss(Wh, Wx, xs, h0, target):
    """Squared error of the last state of h_t = tanh(Wh @ h_{t-1} + Wx @ x_t)."""
    h = h0
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    err = h - target
    return np.sum(err * err)


def main(steps=30, lr=0.03, hidden=16, inputs=8, length=20):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((length, inputs))
    h0 = np.zeros(hidden)
    target = 0.8 * np.tanh(rng.standard_normal(hidden))
    Wh = 0.5 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, inputs)) / np.sqrt(inputs)

    start = time.perf_counter()
    dloss = srcad.grad(loss, wrt=("Wh", "Wx"))
    print(f"srcad wrote the gradient in {1e3 * (time.perf_counter() - start):.1f} ms:\n")
    print(dloss.source)

    start = time.perf_counter()
    for step in range(steps + 1):
        if step % 5 == 0:
            print(f"step {step:3d}  loss {loss(Wh, Wx, xs, h0, target):.6f}")
        if step < steps:
            dWh, dWx = dloss(Wh, Wx, xs, h0, target)
            Wh = Wh - lr * dWh
            Wx = Wx - lr * dWx
    elapsed = time.perf_counter() - start

    errors = srcad.check_grad(loss, Wh, Wx, xs, h0, target, wrt=("Wh", "Wx"))
    print(f"\n{steps} SGD steps in {1e3 * elapsed:.1f} ms; "
          f"largest difference from finite differences: {max(errors.values()):.1e}")


if __name__ == "__main__":
    main()
