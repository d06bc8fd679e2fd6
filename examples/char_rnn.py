"""A character-level recurrent network, structured as autograd's ``rnn.py``.

The parameters are a dict of arrays; the network runs over the time steps of
an array of one-hot characters with a Python ``for`` loop, collects one
output per step in a list, and the log-likelihood reads that list back by
index.  srcad's reverse sweep walks the steps backwards; its cost per step
does not grow with the length of the sequence (benchmarks/bench_examples.py
--sweep).  The text is this file's own docstring; the loss falls as the
network learns to predict the next character.

Run:  python examples/char_rnn.py
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

ALPHABET = 64                            # characters folded into 64 classes


def concat_and_multiply(weights, *args):
    """``[args..., 1] @ weights``: an affine map of several inputs at once."""
    stacked = np.hstack(args + (np.ones((args[0].shape[0], 1)),))
    return stacked @ weights


def init_params(n_in, n_state, n_out, scale, rng):
    return {"init hiddens": scale * rng.standard_normal((1, n_state)),
            "change": scale * rng.standard_normal((n_in + n_state + 1, n_state)),
            "predict": scale * rng.standard_normal((n_state + 1, n_out))}


def predict(params, inputs):
    """One row of log-probabilities per time step (a list of T + 1 arrays)."""
    hiddens = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
    scores = concat_and_multiply(params["predict"], hiddens)
    output = [scores - logsumexp(scores, axis=1, keepdims=True)]
    for x in inputs:
        hiddens = np.tanh(concat_and_multiply(params["change"], x, hiddens))
        scores = concat_and_multiply(params["predict"], hiddens)
        output.append(scores - logsumexp(scores, axis=1, keepdims=True))
    return output


def loss(params, inputs, targets):
    """Mean negative log-likelihood of each next character."""
    logprobs = predict(params, inputs)
    total = 0.0
    steps, sequences, _ = inputs.shape
    for t in range(steps):
        total = total + np.sum(logprobs[t] * targets[t])
    return -total / (steps * sequences)


def one_hot_lines(text, length, alphabet=ALPHABET):
    """(length, lines, alphabet) one-hot array of the text's non-blank lines."""
    lines = [line for line in text.splitlines() if len(line) > 2]
    codes = np.array([[ord(c) % alphabet for c in (line + " " * length)[:length]] for line in lines])
    return np.eye(alphabet)[codes.T]


def problem(length=8, lines=4, state=6, seed=0):
    """(loss, params, args): what the tests check against finite differences."""
    rng = np.random.default_rng(seed)
    seqs = one_hot_lines(__doc__, length + 1)[:, :lines]
    params = init_params(ALPHABET, state, ALPHABET, 0.1, rng)
    return loss, params, (seqs[:-1], seqs[1:])


def main(steps=60, length=24, state=32, lr=0.3, verbose=True):
    """Train with gradient descent with momentum; return the losses."""
    f, params, (inputs, targets) = problem(length, 12, state)
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
