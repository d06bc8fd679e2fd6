"""A classifier MLP whose parameters are a list of (weights, bias) tuples.

The way autograd's ``neural_net.py`` structures its model: the network is a
``for W, b in params`` loop, the output is normalised with SciPy's
``logsumexp``, and the L2 penalty flattens every parameter into one vector.
``srcad.grad`` returns the gradient in the parameters' own structure (a list
of tuples), so the Adam update below zips the two.  The data are two noisy
spirals; the loss falls as the network learns to tell them apart.

Run:  python examples/mlp_classifier.py
"""

import pathlib
import sys

import numpy as np
from scipy.special import logsumexp

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def init_params(sizes, scale, rng):
    """One (W, b) pair per layer."""
    return [(scale * rng.standard_normal((m, n)), scale * rng.standard_normal(n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def log_probabilities(params, inputs):
    """Class log-probabilities of every row of ``inputs``."""
    for W, b in params:
        outputs = inputs @ W + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def squared_norm(params):
    flat = np.concatenate([np.ravel(p) for layer in params for p in layer])
    return np.dot(flat, flat)


def loss(params, inputs, targets, l2=1e-3):
    """Mean negative log-likelihood plus an L2 penalty."""
    fit = -np.sum(log_probabilities(params, inputs) * targets) / len(inputs)
    return fit + l2 * squared_norm(params)


def spirals(n, rng):
    """Two interleaved spirals, one-hot labels."""
    t = np.sqrt(rng.uniform(0.05, 1.0, n)) * 3.0 * np.pi
    label = rng.integers(0, 2, n)
    sign = 2.0 * label - 1.0
    points = np.stack([sign * t * np.cos(t), sign * t * np.sin(t)], axis=1) / 10.0
    return points + 0.05 * rng.standard_normal((n, 2)), np.eye(2)[label]


def problem(n=64, sizes=(2, 16, 16, 2), seed=0):
    """(loss, params, args): what the tests check against finite differences."""
    rng = np.random.default_rng(seed)
    inputs, targets = spirals(n, rng)
    return loss, init_params(list(sizes), 0.5, rng), (inputs, targets)


def adam(params, grads, state, step, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step over a list of tuples of arrays."""
    new, new_state = [], []
    for layer, dlayer, mv in zip(params, grads, state):
        out, out_mv = [], []
        for p, g, (m, v) in zip(layer, dlayer, mv):
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat, vhat = m / (1 - b1 ** step), v / (1 - b2 ** step)
            out.append(p - lr * mhat / (np.sqrt(vhat) + eps))
            out_mv.append((m, v))
        new.append(tuple(out))
        new_state.append(out_mv)
    return new, new_state


def main(steps=200, n=256, verbose=True):
    """Train; return the losses, one per step."""
    f, params, (inputs, targets) = problem(n)
    dloss = srcad.grad(f)
    state = [[(np.zeros_like(p), np.zeros_like(p)) for p in layer] for layer in params]
    losses = []
    for step in range(1, steps + 1):
        losses.append(f(params, inputs, targets))
        params, state = adam(params, dloss(params, inputs, targets), state, step)
        if verbose and (step == 1 or step % 25 == 0):
            accuracy = np.mean(np.argmax(log_probabilities(params, inputs), 1) == np.argmax(targets, 1))
            print(f"step {step:4d}  loss {losses[-1]:.4f}  accuracy {accuracy:.2f}")
    return losses


if __name__ == "__main__":
    main()
