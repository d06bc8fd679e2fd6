"""Finite differences for arguments that are trees: dicts, lists, tuples,
namedtuples, dataclasses and plain objects whose attributes hold arrays.

Independent of srcad: a tree is flattened to one float64 vector of its
differentiable leaves (floats and float arrays; ints, strings, functions and
None stay as they are), the function is differenced along that vector, and
the result is put back into the argument's structure.  ``check_grad_tree``
and ``check_jvp_tree`` compare srcad's gradient (whose structure and type must
be exactly the argument's) and its tangent with those differences.
"""

import copy
import dataclasses

import numpy as np

from helpers import assert_close


def _is_leaf(x):
    return (isinstance(x, (float, np.floating)) or
            (isinstance(x, np.ndarray) and x.dtype.kind == "f"))


def _children(x):
    """(keys, rebuild) of a container or object, or None for a leaf/static."""
    if isinstance(x, dict):
        keys = list(x)
        return keys, lambda vals: dict(zip(keys, vals))
    if isinstance(x, tuple) and hasattr(type(x), "_fields"):
        return list(range(len(x))), lambda vals: type(x)(*vals)
    if isinstance(x, (list, tuple)):
        return list(range(len(x))), lambda vals: type(x)(vals)
    slots = [n for c in type(x).__mro__ for n in c.__dict__.get("__slots__", ())]
    if dataclasses.is_dataclass(x) or ((hasattr(x, "__dict__") or slots) and not callable(x)
                                       and not isinstance(x, (type(np), np.ndarray, np.generic))):
        names = ([f.name for f in dataclasses.fields(x)] if dataclasses.is_dataclass(x)
                 else list(getattr(x, "__dict__", ())) + slots)

        def rebuild(vals):
            out = copy.copy(x)
            for n, v in zip(names, vals):
                object.__setattr__(out, n, v)
            return out
        return names, rebuild
    return None


def _get(x, key):
    return x[key] if isinstance(x, (dict, list, tuple)) else getattr(x, key)


def flatten(x):
    """The differentiable leaves of ``x`` as one float64 vector."""
    if _is_leaf(x):
        return np.ravel(np.asarray(x, dtype=np.float64))
    kids = _children(x)
    if kids is None:
        return np.zeros(0)
    parts = [flatten(_get(x, k)) for k in kids[0]]
    return np.concatenate(parts) if parts else np.zeros(0)


def unflatten(vec, like):
    """``vec`` in the structure of ``like`` (non-leaves kept from ``like``)."""
    out, used = _unflatten(np.asarray(vec, dtype=np.float64), like)
    assert used == len(vec)
    return out


def _unflatten(vec, like):
    if _is_leaf(like):
        n = int(np.size(like))
        value = vec[:n].reshape(np.shape(like))
        return (float(value) if isinstance(like, float) else value), n
    kids = _children(like)
    if kids is None:
        return like, 0
    keys, rebuild = kids
    vals, used = [], 0
    for k in keys:
        v, n = _unflatten(vec[used:], _get(like, k))
        vals.append(v)
        used += n
    return rebuild(vals), used


def same_structure(actual, expected):
    """Types and keys equal all the way down (values not compared)."""
    assert type(actual) is type(expected), f"{type(actual).__name__} != {type(expected).__name__}"
    kids = None if _is_leaf(expected) else _children(expected)
    if kids is None:
        return
    if isinstance(expected, dict):
        assert list(actual) == list(expected), f"keys {list(actual)} != {list(expected)}"
    for k in kids[0]:
        same_structure(_get(actual, k), _get(expected, k))


def numerical_grad_tree(f, args, i, eps=1e-6):
    """Central differences of the scalar ``f(*args)`` w.r.t. the tree ``args[i]``."""
    x0 = flatten(args[i])
    g = np.zeros_like(x0)
    for k in range(len(x0)):
        e = np.zeros_like(x0)
        e[k] = eps
        plus = list(args)
        minus = list(args)
        plus[i] = unflatten(x0 + e, args[i])
        minus[i] = unflatten(x0 - e, args[i])
        g[k] = (float(f(*plus)) - float(f(*minus))) / (2 * eps)
    return unflatten(g, args[i])


def check_grad_tree(df, f, args, wrt, rtol=1e-6, atol=1e-8):
    """``df(*args)`` (one gradient, or a tuple for a tuple ``wrt``) matches central
    differences and has exactly each argument's structure; args unchanged."""
    before = [flatten(a) for a in args]
    grads = df(*args)
    many = isinstance(wrt, tuple)
    for i, g in zip(wrt if many else (wrt,), grads if many else (grads,)):
        expected = numerical_grad_tree(f, args, i)
        same_structure(g, args[i])
        assert_close(flatten(g), flatten(expected), rtol, atol)
    for a, b in zip(args, before):
        assert_close(flatten(a), b, 0, 0)
    return grads


def check_jvp_tree(jf, f, args, i, seed=0, eps=1e-6, rtol=1e-6, atol=1e-8):
    """``jf(*args, tangent)`` matches the central difference of ``f`` along a
    random tangent of ``args[i]``'s structure (given as that structure)."""
    rng = np.random.default_rng(seed)
    x0 = flatten(args[i])
    t = rng.standard_normal(len(x0))
    tangent = unflatten(t, args[i])
    value, out_dot = jf(*args, tangent)
    plus, minus = list(args), list(args)
    plus[i] = unflatten(x0 + eps * t, args[i])
    minus[i] = unflatten(x0 - eps * t, args[i])
    expected = (np.asarray(f(*plus), dtype=float) - np.asarray(f(*minus), dtype=float)) / (2 * eps)
    assert_close(value, f(*args), 1e-12, 1e-12)
    assert_close(out_dot, expected, rtol, atol)
    return out_dot
