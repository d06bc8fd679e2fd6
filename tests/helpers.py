"""Test helpers that do not depend on srcad: expected gradients come from here.

``numerical_grad`` is a plain central-difference gradient in float64, so a test
that compares srcad against it never takes its expected values from srcad.
"""

import numpy as np


def numerical_grad(f, args, i, eps=1e-6, cotangent=None):
    """Central-difference gradient of ``sum(cotangent * f(*args))`` w.r.t. ``args[i]``.

    ``cotangent`` defaults to 1 (for scalar outputs).  Array arguments are
    copied before every call, so ``f`` may modify them in place.  Python scalars give a
    Python float back; arrays give a float64 array of the same shape.
    """
    x = np.asarray(args[i], dtype=np.float64)
    grad = np.zeros(x.shape)
    v = 1.0 if cotangent is None else np.asarray(cotangent, dtype=np.float64)

    def value(shifted):
        # fresh copies every call: f may modify its array arguments in place
        new = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        new[i] = shifted if x.ndim else float(shifted)
        return float(np.sum(np.asarray(f(*new), dtype=np.float64) * v))

    for idx in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        grad[idx] = (value(plus) - value(minus)) / (2 * eps)
    return grad if x.ndim else float(grad)


def numerical_grad_tree(f, args, i, eps=1e-6):
    """``numerical_grad`` for an argument that may be a dict or a list of
    values: the gradient has the same nesting (a dict gives a dict)."""
    args = tuple(args)
    x = args[i]
    if not isinstance(x, (dict, list, tuple)):
        return numerical_grad(f, args, i, eps)

    def entry_grad(key):
        def g(*a):
            inner = dict(x) if isinstance(x, dict) else list(x)
            inner[key] = a[i]
            return f(*a[:i], inner if not isinstance(x, tuple) else tuple(inner), *a[i + 1:])
        return numerical_grad_tree(g, args[:i] + (x[key],) + args[i + 1:], i, eps)

    keys = x if isinstance(x, dict) else range(len(x))
    grads = {key: entry_grad(key) for key in keys}
    return grads if isinstance(x, dict) else [grads[k] for k in keys]


def assert_tree_close(actual, expected, rtol=1e-6, atol=1e-8):
    """``assert_close`` through dicts and sequences: same keys, same lengths."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), \
            f"keys {sorted(actual)} != expected {sorted(expected)}"
        for key in expected:
            assert_tree_close(actual[key], expected[key], rtol, atol)
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_tree_close(a, e, rtol, atol)
    else:
        assert_close(actual, expected, rtol, atol)


def assert_close(actual, expected, rtol=1e-6, atol=1e-8):
    """``np.testing.assert_allclose`` that also checks shapes match exactly."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_grads_match(f, args, wrt, grads, **tol):
    """Each of ``grads`` (one per index in ``wrt``) matches central differences."""
    assert len(grads) == len(wrt)
    for i, g in zip(wrt, grads):
        assert_close(g, numerical_grad(f, args, i), **tol)


def check_case(f, args, wrt, transform=None):
    """srcad's gradient of ``f`` at ``args`` matches central differences for
    every index in ``wrt``, and the call leaves the arguments unchanged."""
    import srcad
    transform = transform or srcad.grad
    before = [np.copy(a) for a in args]
    grads = transform(f, wrt=tuple(wrt))(*args)
    assert_grads_match(f, args, wrt, grads)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)
