"""Reverse and forward rules of ``np.linalg``.

Every rule works on a single matrix and on stacks of matrices (``(..., n, n)``):
transposes are ``np.swapaxes(x, -1, -2)`` and products are ``@``.
``np.linalg.slogdet`` has no rule because it returns a pair; write
``np.log(np.abs(np.linalg.det(a)))`` or register a rule for a wrapper.
"""

import numpy as np

from srcad.rules.families import delegated
from srcad.rules.registry import adjoint, tangent
from srcad.runtime import (cholesky_adjoint, cholesky_tangent, norm_divisor, solve_is_vector,
                           unbroadcast)


@adjoint(np.linalg.inv)
def inv(g, ans, a):
    """d(a^-1) = -a^-1 da a^-1, so the cotangent is -a^-T g a^-T."""
    ans_t = np.swapaxes(ans, -1, -2)
    return -(ans_t @ g @ ans_t)


@tangent(np.linalg.inv)
def inv_tangent(a_dot, ans, a):
    """d(a^-1) = -a^-1 da a^-1."""
    return -(ans @ a_dot @ ans)


@adjoint(np.linalg.det)
def det(g, ans, a):
    """d det(a) / da = det(a) a^-T."""
    return np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2)


@tangent(np.linalg.det)
def det_tangent(a_dot, ans, a):
    """d det(a) = det(a) trace(a^-1 da)."""
    return ans * np.trace(np.linalg.solve(a, a_dot), axis1=-2, axis2=-1)


@adjoint(np.linalg.solve)
def solve(g, ans, a, b):
    """x = a^-1 b: the cotangent of b solves a^T gb = g, and that of a is -gb x^T."""
    vector = solve_is_vector(a, b)
    g_columns = np.expand_dims(g, -1) if vector else g
    x_columns = np.expand_dims(ans, -1) if vector else ans
    gb = np.linalg.solve(np.swapaxes(a, -1, -2), g_columns)
    return (unbroadcast(-(gb @ np.swapaxes(x_columns, -1, -2)), a),
            unbroadcast(gb[..., 0] if vector else gb, b))


@tangent(np.linalg.solve)
def solve_tangent(a_dot, b_dot, ans, a, b):
    """x = a^-1 b: dx = a^-1 (db - da x)."""
    vector = solve_is_vector(a, b)
    x_columns = np.expand_dims(ans, -1) if vector else ans
    return (-np.linalg.solve(a, a_dot @ x_columns)[..., 0] if vector
            else -np.linalg.solve(a, a_dot @ x_columns),
            np.linalg.solve(a, b_dot))


@adjoint(np.linalg.norm)
def norm(g, ans, x, ord=None, axis=None, keepdims=False):
    """Euclidean and Frobenius norms of the whole array: d|x| = x / |x| (0 at x = 0)."""
    return g * x / norm_divisor(ans, x, ord, axis)


@tangent(np.linalg.norm)
def norm_tangent(x_dot, ans, x, ord=None, axis=None, keepdims=False):
    return np.sum(x_dot * x, axis=axis, keepdims=keepdims) / norm_divisor(ans, x, ord, axis)


@delegated(np.linalg.cholesky)
def cholesky(g, ans, a, *, upper=False):
    return cholesky_adjoint(g, ans, upper)
