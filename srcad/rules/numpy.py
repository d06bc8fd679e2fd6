"""Reverse rules of NumPy functions and of the matching ``ndarray`` methods.

The arithmetic ufuncs (``np.add``, ``np.multiply``, ``np.power``, ``np.matmul``
...) share their rules with the operators in :mod:`srcad.rules.operators`.
A method is registered next to its function (``np.sum`` and ``np.ndarray.sum``),
so ``x.sum(axis=0)`` and ``np.sum(x, axis=0)`` differentiate identically; where
the two signatures differ (``reshape``, ``transpose``, ``clip``) the method has
its own rule.  Parameter names are NumPy's, so keyword calls bind to them.

Conventions at points where the derivative does not exist:

    primitive                      at                            gradient
    -----------------------------  ----------------------------  ------------------------------
    abs, absolute, fabs            x == 0                        0
    maximum, minimum, fmax, fmin   x1 == x2                      g / 2 to each
    max, amax, min, amin           k tied extreme elements       g / k to each of them
    sqrt, cbrt                     x == 0                        inf
    arcsin, arccos                 x == +-1                      +-inf
    clip                           a == a_min or a == a_max      g to a (bounds inclusive)
    where                          any                           g to x where condition, else to y
    hypot                          x1 == x2 == 0                 0 to both (as abs'(0) = 0)
    fmax, fmin                     one operand is nan            g to the other operand
    std                            all elements equal            nan (sqrt'(0) times 0)
"""

import numpy as np

from srcad.rules.registry import adjoint, nondifferentiable
from srcad.runtime import (dot_adjoint_a, dot_adjoint_b, inner_adjoint_a, inner_adjoint_b,
                           inverse_permutation, packed, prod_others, reduced_count, repeat_to,
                           unbroadcast, unconcatenate, unhstack, unstack, unvstack, within)


# --- elementwise, one argument -------------------------------------------------

@adjoint(np.sin)
def sin(g, ans, x):
    return g * np.cos(x)


@adjoint(np.cos)
def cos(g, ans, x):
    return -g * np.sin(x)


@adjoint(np.tan)
def tan(g, ans, x):
    return g * (1.0 + ans * ans)


@adjoint(np.arcsin)
def arcsin(g, ans, x):
    return g / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def arccos(g, ans, x):
    return -g / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def arctan(g, ans, x):
    return g / (1.0 + x * x)


@adjoint(np.sinh)
def sinh(g, ans, x):
    return g * np.cosh(x)


@adjoint(np.cosh)
def cosh(g, ans, x):
    return g * np.sinh(x)


@adjoint(np.tanh)
def tanh(g, ans, x):
    return g * (1.0 - ans * ans)


@adjoint(np.arcsinh)
def arcsinh(g, ans, x):
    return g / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def arccosh(g, ans, x):
    return g / np.sqrt((x - 1.0) * (x + 1.0))


@adjoint(np.arctanh)
def arctanh(g, ans, x):
    return g / (1.0 - x * x)


@adjoint(np.exp)
def exp(g, ans, x):
    return g * ans


@adjoint(np.exp2)
def exp2(g, ans, x):
    return g * ans * np.log(2.0)


@adjoint(np.expm1)
def expm1(g, ans, x):
    return g * (ans + 1.0)


@adjoint(np.log)
def log(g, ans, x):
    return g / x


@adjoint(np.log1p)
def log1p(g, ans, x):
    return g / (1.0 + x)


@adjoint(np.log2)
def log2(g, ans, x):
    return g / (x * np.log(2.0))


@adjoint(np.log10)
def log10(g, ans, x):
    return g / (x * np.log(10.0))


@adjoint(np.sqrt)
def sqrt(g, ans, x):
    return g / (2.0 * ans)


@adjoint(np.cbrt)
def cbrt(g, ans, x):
    return g / (3.0 * ans * ans)


@adjoint(np.square)
def square(g, ans, x):
    return 2.0 * g * x


@adjoint(np.absolute, np.fabs)
def absolute(g, ans, x):
    return g * np.sign(x)


@adjoint(np.reciprocal)
def reciprocal(g, ans, x):
    return -g * ans * ans


# --- elementwise, two arguments ------------------------------------------------

@adjoint(np.arctan2)
def arctan2(g, ans, x1, x2):
    squared_radius = np.square(x1) + np.square(x2)
    return unbroadcast(g * x2 / squared_radius, x1), unbroadcast(-g * x1 / squared_radius, x2)


@adjoint(np.hypot)
def hypot(g, ans, x1, x2):
    scale = g / np.where(ans == 0, 1.0, ans)
    return unbroadcast(scale * x1, x1), unbroadcast(scale * x2, x2)


@adjoint(np.logaddexp)
def logaddexp(g, ans, x1, x2):
    return unbroadcast(g * np.exp(x1 - ans), x1), unbroadcast(g * np.exp(x2 - ans), x2)


@adjoint(np.logaddexp2)
def logaddexp2(g, ans, x1, x2):
    return unbroadcast(g * np.exp2(x1 - ans), x1), unbroadcast(g * np.exp2(x2 - ans), x2)


@adjoint(np.maximum)
def maximum(g, ans, x1, x2):
    x1_share = (x1 > x2) + 0.5 * (x1 == x2)
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@adjoint(np.minimum)
def minimum(g, ans, x1, x2):
    x1_share = (x1 < x2) + 0.5 * (x1 == x2)
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@adjoint(np.fmax)
def fmax(g, ans, x1, x2):
    """As maximum, except that a nan operand loses."""
    x1_share = (x1 > x2) + 0.5 * (x1 == x2) + (np.isnan(x2) & ~np.isnan(x1))
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@adjoint(np.fmin)
def fmin(g, ans, x1, x2):
    """As minimum, except that a nan operand loses."""
    x1_share = (x1 < x2) + 0.5 * (x1 == x2) + (np.isnan(x2) & ~np.isnan(x1))
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@adjoint(np.where)
def where(g, ans, condition, x, y):
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@adjoint(np.clip)
def clip(g, ans, a, a_min=None, a_max=None):
    return (unbroadcast(g * within(a, a_min, a_max), a),
            None if a_min is None else unbroadcast(g * (a < a_min), a_min),
            None if a_max is None else unbroadcast(g * (a > a_max), a_max))


@adjoint(np.ndarray.clip)
def ndarray_clip(g, ans, a, min=None, max=None):
    return (unbroadcast(g * within(a, min, max), a),
            None if min is None else unbroadcast(g * (a < min), min),
            None if max is None else unbroadcast(g * (a > max), max))


# --- reductions ------------------------------------------------------------------

@adjoint(np.sum, np.ndarray.sum)
def sum(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g, a, axis, keepdims)


@adjoint(np.mean, np.ndarray.mean)
def mean(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g / reduced_count(a, axis), a, axis, keepdims)


@adjoint(np.prod, np.ndarray.prod)
def prod(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g, a, axis, keepdims) * prod_others(a, axis)


@adjoint(np.max, np.amax, np.ndarray.max, np.min, np.amin, np.ndarray.min)
def extremum(g, ans, a, axis=None, *, keepdims=False):
    """k tied extreme elements get g / k each."""
    hit = a == repeat_to(ans, a, axis, keepdims)
    return repeat_to(g, a, axis, keepdims) * hit / np.sum(hit, axis=axis, keepdims=True)


@adjoint(np.var, np.ndarray.var)
def var(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return repeat_to(g, a, axis, keepdims) * 2.0 * centered / (reduced_count(a, axis) - ddof)


@adjoint(np.std, np.ndarray.std)
def std(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    """d std = d var / (2 std)."""
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return repeat_to(g / ans, a, axis, keepdims) * centered / (reduced_count(a, axis) - ddof)


@adjoint(np.cumsum, np.ndarray.cumsum)
def cumsum(g, ans, a, axis=None, dtype=None):
    """Each a[i] reaches every ans[j], j >= i: a reversed cumulative sum of g."""
    return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(a))


# --- products ----------------------------------------------------------------------

@adjoint(np.dot, np.ndarray.dot)
def dot(g, ans, a, b):
    return dot_adjoint_a(g, a, b), dot_adjoint_b(g, a, b)


@adjoint(np.inner)
def inner(g, ans, a, b):
    return inner_adjoint_a(g, a, b), inner_adjoint_b(g, a, b)


@adjoint(np.outer)
def outer(g, ans, a, b):
    """ans[i, j] = a.ravel()[i] * b.ravel()[j]."""
    return np.reshape(np.dot(g, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), g), np.shape(b))


@adjoint(np.trace, np.ndarray.trace)
def trace(g, ans, a, offset=0, axis1=0, axis2=1):
    """g on the traced diagonal, zero elsewhere."""
    shape = np.shape(a)
    diagonal = np.eye(shape[axis1], shape[axis2], k=offset)
    return np.moveaxis(np.expand_dims(g, (-2, -1)) * diagonal, (-2, -1), (axis1, axis2))


@adjoint(np.linspace)
def linspace(g, ans, start, stop, num=50, endpoint=True, *, dtype=None, axis=0):
    """ans = start + t (stop - start) with t running from 0 to 1 along axis."""
    t = np.linspace(np.zeros(np.broadcast_shapes(np.shape(start), np.shape(stop))), 1.0, num,
                    endpoint=endpoint, axis=axis)
    return unbroadcast(np.sum(g * (1.0 - t), axis=axis), start), unbroadcast(np.sum(g * t, axis=axis), stop)


# --- shapes: the adjoint undoes the rearrangement -------------------------------------

@adjoint(np.transpose)
def transpose(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes, np.ndim(a)))


@adjoint(np.ndarray.transpose)
def ndarray_transpose(g, ans, a, *axes):
    return np.transpose(g, inverse_permutation(packed(axes), np.ndim(a)))


@adjoint(np.reshape)
def reshape(g, ans, a, shape, order="C"):
    return np.reshape(g, np.shape(a), order=order)


@adjoint(np.ndarray.reshape)
def ndarray_reshape(g, ans, a, *shape, order="C"):
    return np.reshape(g, np.shape(a), order=order)


@adjoint(np.ravel, np.ndarray.ravel, np.ndarray.flatten)
def ravel(g, ans, a, order="C"):
    return np.reshape(g, np.shape(a), order=order)


@adjoint(np.squeeze, np.ndarray.squeeze)
def squeeze(g, ans, a, axis=None):
    return np.reshape(g, np.shape(a))


@adjoint(np.expand_dims)
def expand_dims(g, ans, a, axis):
    return np.reshape(g, np.shape(a))


@adjoint(np.swapaxes, np.ndarray.swapaxes)
def swapaxes(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2)


@adjoint(np.moveaxis)
def moveaxis(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source)


@adjoint(np.flip)
def flip(g, ans, m, axis=None):
    return np.flip(g, axis)


@adjoint(np.broadcast_to)
def broadcast_to(g, ans, array, shape):
    return unbroadcast(g, array)


@adjoint(np.copy, np.ndarray.copy)
def copy(g, ans, a, order="K"):
    return g


# --- sequences of arrays: one gradient for the sequence, a tuple with one per array ----

@adjoint(np.concatenate)
def concatenate(g, ans, arrays, axis=0):
    return unconcatenate(g, arrays, axis)


@adjoint(np.stack)
def stack(g, ans, arrays, axis=0):
    return unstack(g, axis)


@adjoint(np.hstack)
def hstack(g, ans, tup):
    return unhstack(g, tup)


@adjoint(np.vstack)
def vstack(g, ans, tup):
    return unvstack(g, tup)


nondifferentiable(
    # piecewise constant
    np.sign, np.floor, np.ceil, np.round, np.around, np.rint, np.trunc, np.fix,
    np.floor_divide,
    # integer and boolean results
    np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero,
    np.isnan, np.isinf, np.isfinite,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.any, np.all, np.allclose, np.isclose, np.array_equal,
    np.shape, np.ndim, np.size,
    np.ndarray.argmax, np.ndarray.argmin, np.ndarray.argsort, np.ndarray.nonzero,
    np.ndarray.any, np.ndarray.all, np.ndarray.round,
    # constructors of constants
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like,
    np.arange, np.eye, np.identity,
)
