"""Train a two-layer MLP with gradients written by srcad.

The loss is ordinary NumPy: a tanh hidden layer, then softmax cross-entropy
with a numerically stable log-sum-exp.  srcad reads it once and writes its
gradient as Python code (printed below); training is plain minibatch SGD.

Run:  python examples/train_mlp.py
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


def loss(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a tanh MLP; Y holds one-hot rows."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)          # log-sum-exp, shifted for stability
    z = logits - m
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def make_blobs(rng, n_per_class=100, n_classes=3):
    """Three Gaussian blobs in the plane, labels one-hot as float arrays."""
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centers = 1.5 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    X = np.concatenate([c + 0.8 * rng.standard_normal((n_per_class, 2)) for c in centers])
    labels = np.repeat(np.arange(n_classes), n_per_class)
    Y = np.eye(n_classes)[labels]
    return X, Y, labels


def accuracy(W1, b1, W2, b2, X, labels):
    logits = np.tanh(X @ W1 + b1) @ W2 + b2
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def main(epochs=40, batch=32, lr=0.05, hidden=16):
    rng = np.random.default_rng(0)
    X, Y, labels = make_blobs(rng)
    n, d = X.shape
    k = Y.shape[1]

    W1 = rng.standard_normal((d, hidden)) / np.sqrt(d)
    b1 = np.zeros(hidden)
    W2 = rng.standard_normal((hidden, k)) / np.sqrt(hidden)
    b2 = np.zeros(k)

    start = time.perf_counter()
    dloss = srcad.grad(loss, wrt=("W1", "b1", "W2", "b2"))
    print(f"srcad wrote this gradient in {1e3 * (time.perf_counter() - start):.1f} ms:\n")
    print(dloss.source)

    # srcad can check itself against finite differences on a few samples.
    srcad.check_grad(loss, W1, b1, W2, b2, X[:8], Y[:8], wrt=("W1", "b1", "W2", "b2"))

    initial = loss(W1, b1, W2, b2, X, Y)
    print(f"epoch   0  loss {initial:.4f}  accuracy {accuracy(W1, b1, W2, b2, X, labels):.2f}")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            dW1, db1, dW2, db2 = dloss(W1, b1, W2, b2, X[idx], Y[idx])
            W1 = W1 - lr * dW1
            b1 = b1 - lr * db1
            W2 = W2 - lr * dW2
            b2 = b2 - lr * db2
        if epoch % 5 == 0:
            print(f"epoch {epoch:3d}  loss {loss(W1, b1, W2, b2, X, Y):.4f}  "
                  f"accuracy {accuracy(W1, b1, W2, b2, X, labels):.2f}")
    final = loss(W1, b1, W2, b2, X, Y)
    print(f"\ntrained {epochs} epochs in {time.perf_counter() - start:.2f} s: "
          f"loss {initial:.4f} -> {final:.4f}")
    assert final < 0.5 * initial, f"loss did not fall enough: {initial:.4f} -> {final:.4f}"
    return initial, final


if __name__ == "__main__":
    main()
