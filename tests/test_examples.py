"""The programs in examples/ (autograd's example programs, in our own words).

Each example module has ``problem()`` -> ``(loss, params, args)`` and
``main(...)`` -> the losses of its optimisation.  Here srcad's gradient of each
problem is compared with central finite differences along random directions
(every leaf of the parameters' structure moves at once, in float64), the
gradient's structure with the parameters', and a short run of ``main`` must
make its loss fall.
"""

import importlib
import pathlib
import sys

import numpy as np
import pytest

import srcad

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
NAMES = ["mlp_classifier", "char_rnn", "char_lstm", "gaussian_process", "logistic_regression",
         "black_box_svi"]


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(EXAMPLES))


def leaves(tree):
    """Leaves in a fixed order (dicts by sorted key)."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def shifted(tree, direction, step):
    """``tree + step * direction`` for a direction given as one array per leaf."""
    it = iter(direction)

    def go(t):
        if isinstance(t, dict):
            return {key: go(t[key]) for key in sorted(t)}
        if isinstance(t, (list, tuple)):
            return type(t)(go(item) for item in t)
        return t + step * next(it)
    return go(tree)


def same_structure(a, b):
    if isinstance(b, dict):
        return type(a) is dict and set(a) == set(b) and all(same_structure(a[k], b[k]) for k in b)
    if isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_structure, a, b))
    return np.shape(a) == np.shape(b)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    f, params, args = load(name).problem()
    grads = srcad.grad(f)(params, *args)
    assert same_structure(grads, params)
    rng = np.random.default_rng(7)
    h = 1e-6
    for _ in range(3):
        direction = [rng.standard_normal(np.shape(leaf)) for leaf in leaves(params)]
        expected = (f(shifted(params, direction, h), *args) - f(shifted(params, direction, -h), *args)) / (2 * h)
        got = sum(float(np.sum(g * d)) for g, d in zip(leaves(grads), direction))
        assert abs(got - expected) <= 1e-6 * max(1.0, abs(expected)), (got, expected)


@pytest.mark.parametrize("name, kwargs", [
    ("mlp_classifier", dict(steps=15, n=64)),
    ("char_rnn", dict(steps=6, length=8, state=8)),
    ("char_lstm", dict(steps=6, length=8, state=8)),
    ("gaussian_process", dict(steps=5)),
    ("logistic_regression", dict(steps=10)),
])
def test_training_lowers_the_loss(name, kwargs):
    losses = load(name).main(verbose=False, **kwargs)
    assert losses[-1] < losses[0]


def test_variational_bound_rises():
    bounds = load("black_box_svi").main(steps=40, samples=100, verbose=False)
    assert np.mean(bounds[-5:]) > np.mean(bounds[:5])
