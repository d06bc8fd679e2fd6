"""Reverse and forward rules of NumPy functions and of the matching ``ndarray``
methods; each forward rule follows its reverse twin, or is derived from it
(:mod:`srcad.rules.families`), and follows the same conventions below.

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
    std                            all elements equal            0 (as hypot; exact on a length-1 axis)
"""

import numpy as np

from srcad.rules.families import elementwise, family, unary
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import (broadcast_like, dot_adjoint_a, dot_adjoint_b, inner_adjoint_a,
                           inner_adjoint_b, inverse_permutation, packed, prod_others, reduced_count,
                           repeat_to, unbroadcast, unconcatenate, unhstack, unstack, unvstack, within,
                           zeros_like)


# --- elementwise, one argument -------------------------------------------------

#: The one-argument functions NumPy shares with ``math``, and their reverse
#: rule: ``g`` times the derivative.  ``xp`` is the function's own module (``np``
#: here, ``math`` in :mod:`srcad.rules.builtins`, which is fast on Python
#: floats); ``np`` is NumPy for both, where a ``math`` function would raise
#: ZeroDivisionError at a point where the derivative is infinite (``arcsin``
#: at 1): NumPy divides to ``inf``.
SHARED_WITH_MATH = [
    # NumPy      math       g * d/dx
    ("sin",      "sin",     "g * xp.cos(x)"),
    ("cos",      "cos",     "-g * xp.sin(x)"),
    ("tan",      "tan",     "g * (1.0 + ans * ans)"),
    ("arcsin",   "asin",    "g / np.sqrt(1.0 - x * x)"),
    ("arccos",   "acos",    "-g / np.sqrt(1.0 - x * x)"),
    ("arctan",   "atan",    "g / (1.0 + x * x)"),
    ("sinh",     "sinh",    "g * xp.cosh(x)"),
    ("cosh",     "cosh",    "g * xp.sinh(x)"),
    ("tanh",     "tanh",    "g * (1.0 - ans * ans)"),
    ("arcsinh",  "asinh",   "g / xp.sqrt(x * x + 1.0)"),
    ("arccosh",  "acosh",   "g / np.sqrt((x - 1.0) * (x + 1.0))"),
    ("arctanh",  "atanh",   "g / (1.0 - x * x)"),
    ("exp",      "exp",     "g * ans"),
    ("expm1",    "expm1",   "g * (ans + 1.0)"),
    ("log1p",    "log1p",   "g / (1.0 + x)"),
    ("log2",     "log2",    "g / (x * xp.log(2.0))"),
    ("log10",    "log10",   "g / (x * xp.log(10.0))"),
]

unary(globals(), [(name, getattr(np, name), reverse.replace("xp.", "np."))
                  for name, _, reverse in SHARED_WITH_MATH] + [
    ("exp2",        np.exp2,                 "g * ans * np.log(2.0)"),
    ("log",         np.log,                  "g / x"),
    ("sqrt",        np.sqrt,                 "g / (2.0 * ans)"),
    ("cbrt",        np.cbrt,                 "g / (3.0 * ans * ans)"),
    ("absolute",    (np.absolute, np.fabs),  "g * np.sign(x)"),
    ("reciprocal",  np.reciprocal,           "-g * ans * ans"),
])


@adjoint(np.square)
def square(g, ans, x):
    return 2.0 * g * x


@tangent(np.square)
def square_tangent(x_dot, ans, x):
    return 2.0 * x * x_dot


# --- elementwise, two arguments ------------------------------------------------
# (each forward rule is derived from the reverse one: families.elementwise)

@elementwise(np.arctan2)
def arctan2(g, ans, x1, x2):
    squared_radius = np.square(x1) + np.square(x2)
    return unbroadcast(g * x2 / squared_radius, x1), unbroadcast(-g * x1 / squared_radius, x2)


@adjoint(np.hypot)
def hypot(g, ans, x1, x2):
    scale = g / np.where(ans == 0, 1.0, ans)
    return unbroadcast(scale * x1, x1), unbroadcast(scale * x2, x2)


@tangent(np.hypot)
def hypot_tangent(x1_dot, x2_dot, ans, x1, x2):
    divisor = np.where(ans == 0, 1.0, ans)
    return x1_dot * x1 / divisor, x2_dot * x2 / divisor


@elementwise(np.logaddexp)
def logaddexp(g, ans, x1, x2):
    return unbroadcast(g * np.exp(x1 - ans), x1), unbroadcast(g * np.exp(x2 - ans), x2)


@elementwise(np.logaddexp2)
def logaddexp2(g, ans, x1, x2):
    return unbroadcast(g * np.exp2(x1 - ans), x1), unbroadcast(g * np.exp2(x2 - ans), x2)


@elementwise(np.maximum)
def maximum(g, ans, x1, x2):
    x1_share = (x1 > x2) + 0.5 * (x1 == x2)
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@elementwise(np.minimum)
def minimum(g, ans, x1, x2):
    x1_share = (x1 < x2) + 0.5 * (x1 == x2)
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@elementwise(np.fmax)
def fmax(g, ans, x1, x2):
    """As maximum, except that a nan operand loses."""
    x1_share = (x1 > x2) + 0.5 * (x1 == x2) + (np.isnan(x2) & ~np.isnan(x1))
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@elementwise(np.fmin)
def fmin(g, ans, x1, x2):
    """As minimum, except that a nan operand loses."""
    x1_share = (x1 < x2) + 0.5 * (x1 == x2) + (np.isnan(x2) & ~np.isnan(x1))
    return unbroadcast(g * x1_share, x1), unbroadcast(g * (1.0 - x1_share), x2)


@adjoint(np.where)
def where(g, ans, condition, x, y):
    return None, unbroadcast(np.where(condition, g, 0.0), x), unbroadcast(np.where(condition, 0.0, g), y)


@tangent(np.where)
def where_tangent(condition_dot, x_dot, y_dot, ans, condition, x, y):
    # the condition or the other branch may be larger than x (a scalar x_dot)
    return (None, broadcast_like(np.where(condition, x_dot, 0.0), ans),
            broadcast_like(np.where(condition, 0.0, y_dot), ans))


@adjoint(np.clip)
def clip(g, ans, a, a_min=None, a_max=None):
    return (unbroadcast(g * within(a, a_min, a_max), a),
            None if a_min is None else unbroadcast(g * (a < a_min), a_min),
            None if a_max is None else unbroadcast(g * (a > a_max), a_max))


@tangent(np.clip)
def clip_tangent(a_dot, a_min_dot, a_max_dot, ans, a, a_min=None, a_max=None):
    return (broadcast_like(a_dot * within(a, a_min, a_max), ans),       # a bound may be larger
            None if a_min is None else broadcast_like(a_min_dot * (a < a_min), ans),
            None if a_max is None else broadcast_like(a_max_dot * (a > a_max), ans))


@adjoint(np.ndarray.clip)
def ndarray_clip(g, ans, a, min=None, max=None):
    return (unbroadcast(g * within(a, min, max), a),
            None if min is None else unbroadcast(g * (a < min), min),
            None if max is None else unbroadcast(g * (a > max), max))


@tangent(np.ndarray.clip)
def ndarray_clip_tangent(a_dot, min_dot, max_dot, ans, a, min=None, max=None):
    return (broadcast_like(a_dot * within(a, min, max), ans),
            None if min is None else broadcast_like(min_dot * (a < min), ans),
            None if max is None else broadcast_like(max_dot * (a > max), ans))


# --- reductions ------------------------------------------------------------------

@adjoint(np.sum, np.ndarray.sum)
def sum(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g, a, axis, keepdims)


@tangent(np.sum, np.ndarray.sum)
def sum_tangent(a_dot, ans, a, axis=None, dtype=None, *, keepdims=False):
    return np.sum(a_dot, axis=axis, keepdims=keepdims)


@adjoint(np.mean, np.ndarray.mean)
def mean(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g / reduced_count(a, axis), a, axis, keepdims)


@tangent(np.mean, np.ndarray.mean)
def mean_tangent(a_dot, ans, a, axis=None, dtype=None, *, keepdims=False):
    return np.mean(a_dot, axis=axis, keepdims=keepdims)


@adjoint(np.prod, np.ndarray.prod)
def prod(g, ans, a, axis=None, dtype=None, *, keepdims=False):
    return repeat_to(g, a, axis, keepdims) * prod_others(a, axis)


@tangent(np.prod, np.ndarray.prod)
def prod_tangent(a_dot, ans, a, axis=None, dtype=None, *, keepdims=False):
    return np.sum(a_dot * prod_others(a, axis), axis=axis, keepdims=keepdims)


@adjoint(np.max, np.amax, np.ndarray.max, np.min, np.amin, np.ndarray.min)
def extremum(g, ans, a, axis=None, *, keepdims=False):
    """k tied extreme elements get g / k each (divided before it is spread
    over ``hit``: where broadcasting spreads ``g``, the division is of the
    reduced shape)."""
    hit = a == repeat_to(ans, a, axis, keepdims)
    return repeat_to(g / np.sum(hit, axis=axis, keepdims=keepdims), a, axis, keepdims) * hit


@tangent(np.max, np.amax, np.ndarray.max, np.min, np.amin, np.ndarray.min)
def extremum_tangent(a_dot, ans, a, axis=None, *, keepdims=False):
    """The mean of the tangents of the k tied extreme elements."""
    hit = a == repeat_to(ans, a, axis, keepdims)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return np.sum(a_dot * share, axis=axis, keepdims=keepdims)


@adjoint(np.var, np.ndarray.var)
def var(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return repeat_to(g, a, axis, keepdims) * 2.0 * centered / (reduced_count(a, axis) - ddof)


@tangent(np.var, np.ndarray.var)
def var_tangent(a_dot, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return np.sum(a_dot * centered, axis=axis, keepdims=keepdims) * 2.0 / (reduced_count(a, axis) - ddof)


@adjoint(np.std, np.ndarray.std)
def std(g, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    """d std = d var / (2 std).  Where std is 0 every centered value is 0, and
    the gradient is 0 (as for hypot: std is a norm of the centered values);
    exact over a length-1 axis, where std is identically 0."""
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return repeat_to(g / np.where(ans == 0, 1.0, ans), a, axis, keepdims) * centered / \
        (reduced_count(a, axis) - ddof)


@tangent(np.std, np.ndarray.std)
def std_tangent(a_dot, ans, a, axis=None, dtype=None, *, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    return np.sum(a_dot * centered, axis=axis, keepdims=keepdims) / \
        ((reduced_count(a, axis) - ddof) * np.where(ans == 0, 1.0, ans))


@adjoint(np.cumsum, np.ndarray.cumsum)
def cumsum(g, ans, a, axis=None, dtype=None):
    """Each a[i] reaches every ans[j], j >= i: a reversed cumulative sum of g."""
    return np.reshape(np.flip(np.cumsum(np.flip(g, axis), axis), axis), np.shape(a))


@tangent(np.cumsum, np.ndarray.cumsum)
def cumsum_tangent(a_dot, ans, a, axis=None, dtype=None):
    return np.cumsum(a_dot, axis)


# --- products ----------------------------------------------------------------------

@adjoint(np.dot, np.ndarray.dot)
def dot(g, ans, a, b):
    return dot_adjoint_a(g, a, b), dot_adjoint_b(g, a, b)


@tangent(np.dot, np.ndarray.dot)
def dot_tangent(a_dot, b_dot, ans, a, b):
    return np.dot(a_dot, b), np.dot(a, b_dot)


@adjoint(np.inner)
def inner(g, ans, a, b):
    return inner_adjoint_a(g, a, b), inner_adjoint_b(g, a, b)


@tangent(np.inner)
def inner_tangent(a_dot, b_dot, ans, a, b):
    return np.inner(a_dot, b), np.inner(a, b_dot)


@adjoint(np.outer)
def outer(g, ans, a, b):
    """ans[i, j] = a.ravel()[i] * b.ravel()[j]."""
    return np.reshape(np.dot(g, np.ravel(b)), np.shape(a)), np.reshape(np.dot(np.ravel(a), g), np.shape(b))


@tangent(np.outer)
def outer_tangent(a_dot, b_dot, ans, a, b):
    return np.outer(a_dot, b), np.outer(a, b_dot)


@adjoint(np.trace, np.ndarray.trace)
def trace(g, ans, a, offset=0, axis1=0, axis2=1):
    """g on the traced diagonal, zero elsewhere."""
    shape = np.shape(a)
    diagonal = np.eye(shape[axis1], shape[axis2], k=offset)
    return np.moveaxis(np.expand_dims(g, (-2, -1)) * diagonal, (-2, -1), (axis1, axis2))


@tangent(np.trace, np.ndarray.trace)
def trace_tangent(a_dot, ans, a, offset=0, axis1=0, axis2=1):
    return np.trace(a_dot, offset, axis1, axis2)


# a triangle of the matrix: a mask, its own transpose
family(globals(), """
    @adjoint(np.$f)
    def $f(g, ans, m, k=0):
        return np.$f(g, k)


    @tangent(np.$f)
    def ${f}_tangent(m_dot, ans, m, k=0):
        return np.$f(m_dot, k)
""", [{"f": "tril"}, {"f": "triu"}])


@adjoint(np.linspace)
def linspace(g, ans, start, stop, num=50, endpoint=True, *, dtype=None, axis=0):
    """ans = start + t (stop - start) with t running from 0 to 1 along axis."""
    t = np.linspace(np.zeros(np.broadcast_shapes(np.shape(start), np.shape(stop))), 1.0, num,
                    endpoint=endpoint, axis=axis)
    return unbroadcast(np.sum(g * (1.0 - t), axis=axis), start), unbroadcast(np.sum(g * t, axis=axis), stop)


@tangent(np.linspace)
def linspace_tangent(start_dot, stop_dot, ans, start, stop, num=50, endpoint=True, *, dtype=None, axis=0):
    """ans is linear in (start, stop): the tangent is the same linspace of the tangents."""
    return (np.linspace(start_dot, zeros_like(stop), num, endpoint=endpoint, axis=axis),
            np.linspace(zeros_like(start), stop_dot, num, endpoint=endpoint, axis=axis))


# --- views without a rule (yet) ----------------------------------------------------
# Declared here so that a rule added later keeps in-place writes through them
# refused (srcad.alias).  Functions with a ``copy=`` argument (np.array,
# ndarray.astype, np.nan_to_num) are views when it is not the constant True.

views(*[f for f in (np.atleast_1d, np.atleast_2d, np.atleast_3d, np.diagonal, np.ndarray.diagonal,
                    np.ndarray.view, np.flipud, np.fliplr, np.rot90, np.split, np.array_split,
                    np.hsplit, np.vsplit, np.dsplit, np.asanyarray, np.ascontiguousarray,
                    np.asfortranarray, np.require, np.imag, np.real_if_close,
                    np.lib.stride_tricks.as_strided, np.lib.stride_tricks.sliding_window_view,
                    getattr(np, "matrix_transpose", None), getattr(np, "permute_dims", None),
                    getattr(np, "unstack", None), np.ndarray.__array__)
        if f is not None])
views(np.broadcast_arrays, np.meshgrid, every_argument=True)


# --- shapes: the adjoint undoes the rearrangement -------------------------------------

views(np.transpose, np.real)      # x.real of a real array is x itself


@adjoint(np.transpose)
def transpose(g, ans, a, axes=None):
    return np.transpose(g, inverse_permutation(axes, np.ndim(a)))


@tangent(np.transpose)
def transpose_tangent(a_dot, ans, a, axes=None):
    return np.transpose(a_dot, axes)


views(np.ndarray.transpose)


@adjoint(np.ndarray.transpose)
def ndarray_transpose(g, ans, a, *axes):
    return np.transpose(g, inverse_permutation(packed(axes), np.ndim(a)))


@tangent(np.ndarray.transpose)
def ndarray_transpose_tangent(a_dot, ans, a, *axes):
    return np.transpose(a_dot, packed(axes))


views(np.reshape)


# ``newshape`` is the name of ``shape`` before NumPy 2.1 (deprecated since):
# a keyword call with either name binds.
@adjoint(np.reshape)
def reshape(g, ans, a, shape=None, order="C", *, newshape=None):
    return np.reshape(g, np.shape(a), order=order)


@tangent(np.reshape)
def reshape_tangent(a_dot, ans, a, shape=None, order="C", *, newshape=None):
    return np.reshape(a_dot, np.shape(ans), order=order)


views(np.ndarray.reshape)


@adjoint(np.ndarray.reshape)
def ndarray_reshape(g, ans, a, *shape, order="C"):
    return np.reshape(g, np.shape(a), order=order)


@tangent(np.ndarray.reshape)
def ndarray_reshape_tangent(a_dot, ans, a, *shape, order="C"):
    return np.reshape(a_dot, packed(shape), order=order)


views(np.ravel, np.ndarray.ravel)        # flatten always copies


@adjoint(np.ravel, np.ndarray.ravel, np.ndarray.flatten)
def ravel(g, ans, a, order="C"):
    return np.reshape(g, np.shape(a), order=order)


@tangent(np.ravel, np.ndarray.ravel, np.ndarray.flatten)
def ravel_tangent(a_dot, ans, a, order="C"):
    return np.ravel(a_dot, order)


views(np.squeeze, np.ndarray.squeeze)


@adjoint(np.squeeze, np.ndarray.squeeze)
def squeeze(g, ans, a, axis=None):
    return np.reshape(g, np.shape(a))


@tangent(np.squeeze, np.ndarray.squeeze)
def squeeze_tangent(a_dot, ans, a, axis=None):
    return np.reshape(a_dot, np.shape(ans))


views(np.expand_dims)


@adjoint(np.expand_dims)
def expand_dims(g, ans, a, axis):
    return np.reshape(g, np.shape(a))


@tangent(np.expand_dims)
def expand_dims_tangent(a_dot, ans, a, axis):
    return np.reshape(a_dot, np.shape(ans))


views(np.swapaxes, np.ndarray.swapaxes)


@elementwise(np.swapaxes, np.ndarray.swapaxes)
def swapaxes(g, ans, a, axis1, axis2):
    return np.swapaxes(g, axis1, axis2)


views(np.moveaxis)


@adjoint(np.moveaxis)
def moveaxis(g, ans, a, source, destination):
    return np.moveaxis(g, destination, source)


@tangent(np.moveaxis)
def moveaxis_tangent(a_dot, ans, a, source, destination):
    return np.moveaxis(a_dot, source, destination)


views(np.flip)


@elementwise(np.flip)
def flip(g, ans, m, axis=None):
    return np.flip(g, axis)


views(np.broadcast_to)


@adjoint(np.broadcast_to)
def broadcast_to(g, ans, array, shape):
    return unbroadcast(g, array)


@tangent(np.broadcast_to)
def broadcast_to_tangent(array_dot, ans, array, shape):
    return broadcast_like(array_dot, ans)


views(np.float64)               # np.float64(array) returns the array itself

unary(globals(), [
    ("copy(a, order='K')",  (np.copy, np.ndarray.copy),  "g"),
    ("float64",             np.float64,                  "g",
     "``np.float64(x)``, a conversion (generated code uses it for scalars)."),
])


# --- sequences of arrays: one gradient for the sequence, a tuple with one per array ----

@adjoint(np.concatenate)
def concatenate(g, ans, arrays, axis=0):
    return unconcatenate(g, arrays, axis)


@tangent(np.concatenate)
def concatenate_tangent(arrays_dot, ans, arrays, axis=0):
    return np.concatenate(arrays_dot, axis)


@adjoint(np.stack)
def stack(g, ans, arrays, axis=0):
    return unstack(g, axis)


@tangent(np.stack)
def stack_tangent(arrays_dot, ans, arrays, axis=0):
    return np.stack(arrays_dot, axis)


#: the rules of a function that stacks a sequence of arrays: the adjoint
#: ``un<function>`` cuts g back into the arrays' pieces (also column_stack's,
#: in :mod:`srcad.rules.numpy_shapes`)
STACKING = """
    @adjoint(np.$f)
    def $f(g, ans, tup):
        return un$f(g, tup)


    @tangent(np.$f)
    def ${f}_tangent(tup_dot, ans, tup):
        return np.$f(tup_dot)
"""

family(globals(), STACKING, [{"f": "hstack"}, {"f": "vstack"}])


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
