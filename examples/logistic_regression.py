"""Logistic regression by gradient descent, as autograd's ``logistic_regression.py``.

The model's prediction is a small helper function; the loss is the negative
log-likelihood of boolean labels, written the way the example writes it
(``preds * targets + (1 - preds) * (1 - targets)``).  The data are module
globals that the loss reads.  The printed loss falls at every step.

Run:  python examples/logistic_regression.py
"""

import pathlib
import sys

import numpy as np

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad

rng = np.random.default_rng(0)
inputs = rng.standard_normal((40, 3))
targets = inputs @ np.array([1.5, -2.0, 0.5]) + 0.3 * rng.standard_normal(40) > 0


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1.0)


def predictions(weights, inputs):
    return sigmoid(inputs @ weights)


def training_loss(weights):
    preds = predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def problem():
    """(loss, params, args): what the tests check against finite differences."""
    return training_loss, np.array([0.1, -0.2, 0.3]), ()


def main(steps=100, lr=0.01, verbose=True):
    gradient = srcad.grad(training_loss)
    weights = np.zeros(3)
    losses = []
    for step in range(steps):
        losses.append(training_loss(weights))
        if verbose and step % 20 == 0:
            print(f"step {step:4d}  loss {losses[-1]:.4f}")
        weights = weights - lr * gradient(weights)
    if verbose:
        print(f"trained loss {training_loss(weights):.4f}, weights {np.round(weights, 2)}")
    return losses


if __name__ == "__main__":
    main()
