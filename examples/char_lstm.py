"""A character-level LSTM, structured as autograd's ``lstm.py``.

The step function is a nested function that returns a tuple ``(hiddens,
cells)``; its four gates read the shared parameter dict through the
enclosing scope, and ``concat_and_multiply`` (from ``char_rnn.py``) takes its
inputs as ``*args``.  The outputs are collected in a list over the time steps,
as in ``char_rnn.py``.  The loss falls as the network learns its text.

Run:  python examples/char_lstm.py
"""

import pathlib
import sys

import numpy as np
from scipy.special import logsumexp

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from char_rnn import ALPHABET, concat_and_multiply, one_hot_lines  # noqa: E402

try:
    import srcad
except ImportError:                      # running from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    import srcad


def sigmoid(x):
    return 0.5 * (np.tanh(x) + 1.0)


def init_params(n_in, n_state, n_out, scale, rng):
    gates = {name: scale * rng.standard_normal((n_in + n_state + 1, n_state))
             for name in ("change", "forget", "ingate", "outgate")}
    return {"init cells": scale * rng.standard_normal((1, n_state)),
            "init hiddens": scale * rng.standard_normal((1, n_state)),
            "predict": scale * rng.standard_normal((n_state + 1, n_out)), **gates}


def predict(params, inputs):
    def step(x, hiddens, cells):
        change = np.tanh(concat_and_multiply(params["change"], x, hiddens))
        forget = sigmoid(concat_and_multiply(params["forget"], x, hiddens))
        ingate = sigmoid(concat_and_multiply(params["ingate"], x, hiddens))
        outgate = sigmoid(concat_and_multiply(params["outgate"], x, hiddens))
        cells = cells * forget + ingate * change
        return outgate * np.tanh(cells), cells

    def log_probs(hiddens):
        scores = concat_and_multiply(params["predict"], hiddens)
        return scores - logsumexp(scores, axis=1, keepdims=True)

    hiddens = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
    cells = np.repeat(params["init cells"], inputs.shape[1], axis=0)
    output = [log_probs(hiddens)]
    for x in inputs:
        hiddens, cells = step(x, hiddens, cells)
        output.append(log_probs(hiddens))
    return output


def loss(params, inputs, targets):
    logprobs = predict(params, inputs)
    total = 0.0
    steps, sequences, _ = inputs.shape
    for t in range(steps):
        total = total + np.sum(logprobs[t] * targets[t])
    return -total / (steps * sequences)


def problem(length=6, lines=3, state=5, seed=0):
    """(loss, params, args): what the tests check against finite differences."""
    rng = np.random.default_rng(seed)
    seqs = one_hot_lines(__doc__, length + 1)[:, :lines]
    return loss, init_params(ALPHABET, state, ALPHABET, 0.1, rng), (seqs[:-1], seqs[1:])


def main(steps=60, length=24, state=32, lr=0.5, verbose=True):
    """Train with gradient descent with momentum; return the losses."""
    f, params, (inputs, targets) = problem(length, 10, state)
    dloss = srcad.grad(f)
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    losses = []
    for step in range(1, steps + 1):
        losses.append(f(params, inputs, targets))
        grads = dloss(params, inputs, targets)
        velocity = {k: 0.9 * velocity[k] - lr * grads[k] for k in params}
        params = {k: params[k] + velocity[k] for k in params}
        if verbose and (step == 1 or step % 10 == 0):
            print(f"step {step:4d}  loss {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main()
