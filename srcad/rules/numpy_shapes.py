"""Reverse and forward rules of NumPy's rearrangements, stacking and splitting,
sorting, and of the remaining elementwise functions and reductions (nansum,
average, sinc, degrees, casts ...).

Most rearrangements only copy elements (``repeat``, ``tile``, ``pad``,
``roll``, ``diag``, ``take`` ...): their adjoint is the scatter-add of the
cotangent back to where each element came from.  One helper finds that map by
running the primitive on the elements' positions
(:func:`~srcad.rules._np_helpers.index_map`), so the rule is right for every
argument NumPy accepts; the forward rule is the primitive itself applied to the
tangent (each is linear).  Functions that return several arrays (``split``,
``meshgrid``, ``atleast_1d(x, y)``, ``gradient`` of a matrix) have a tuple as
cotangent and tangent: the generated code unpacks it like any tuple.

Conventions at points where the derivative does not exist (see
``docs/conventions.md``):

    primitive               at                           gradient
    ----------------------  ---------------------------  ---------------------------------------
    sort, partition         tied elements                each result position's cotangent to one
                                                         of the tied elements (stable order)
    nan_to_num              x is nan or +-inf            0
    astype, int64(x) ...    cast to an integer or bool   0 (a piecewise-constant function)
    sinc                    x == 0                       0 (the exact derivative)
    angle, imag (real x)    any                          0
"""

import numpy as np

from srcad.rules.families import delegated, family, unary
from srcad.rules.numpy import STACKING
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.rules._np_helpers import (as_tangent, c_concat, concat_adjoint, concat_tangent, r_concat, average_weights, cast_factor, convolve_adjoint,
                                     cross_adjoint, cumprod_adjoint, cumprod_tangent, diff_adjoint,
                                     diff_tangent, gather, gradient_adjoint, index_map, kron_adjoint,
                                     nan_count, pad_index, refuse_returned, rollaxis_destination,
                                     select_adjoint, select_default_tangent, select_share, select_tangent, sinc_derivative,
                                     sort_index, split_axis, unappend,
                                     unatleast, unbroadcast_weights, uncolumn_stack, unindex,
                                     unmeshgrid, unsplit, reshape_weights, sum_kept)
from srcad.runtime import repeat_to, unbroadcast, unvstack, zeros_like


# --- rearrangements that copy elements ----------------------------------------------

# the adjoint scatters g back through the positions the primitive copied from
# (index_map runs it on the positions); the tangent is the primitive applied to the tangent
views(np.diag, np.diagonal, np.ndarray.diagonal)   # the diagonal of a 2-d array is a (read-only) view

family(globals(), """
    @adjoint($primitives)
    def $f(g, ans, $x, $params):
        return unindex(g, $x, index_map(np.$f, $x, $args))


    @tangent($primitives)
    def ${f}_tangent(${x}_dot, ans, $x, $params):
        return np.$f(${x}_dot, $args)$copied
""", [dict(row, primitives=row.get("primitives", "np." + row["f"]), copied=row.get("copied", ""))
      for row in [
    {"f": "repeat", "x": "a", "params": "repeats, axis=None", "args": "repeats, axis"},
    {"f": "tile", "x": "A", "params": "reps", "args": "reps"},
    {"f": "diag", "x": "v", "params": "k=0", "args": "k"},
    {"f": "diagonal", "primitives": "np.diagonal, np.ndarray.diagonal", "x": "a",
     "params": "offset=0, axis1=0, axis2=1", "args": "offset, axis1, axis2", "copied": " + 0.0"},
    {"f": "take", "primitives": "np.take, np.ndarray.take", "x": "a",
     "params": 'indices, axis=None, out=None, mode="raise"', "args": "indices, axis, None, mode"},
    {"f": "take_along_axis", "x": "arr", "params": "indices, axis=-1", "args": "indices, axis"},
]])


@adjoint(np.pad)
def pad(g, ans, array, pad_width, mode="constant", *, constant_values=0, reflect_type="even"):
    """Constant padding is a constant: the padded part carries no gradient."""
    return unindex(g, array, pad_index(array, pad_width, mode, reflect_type))


@tangent(np.pad)
def pad_tangent(array_dot, ans, array, pad_width, mode="constant", *, constant_values=0,
                reflect_type="even"):
    return gather(array_dot, pad_index(array, pad_width, mode, reflect_type))


@adjoint(np.roll)
def roll(g, ans, a, shift, axis=None):
    return np.roll(g, np.negative(shift), axis)


@tangent(np.roll)
def roll_tangent(a_dot, ans, a, shift, axis=None):
    return np.roll(a_dot, shift, axis)


# sorting moves the elements: the cotangent goes back to where each came from
family(globals(), """
    @adjoint(np.$f)
    def $f(g, ans, a, $params):
        return unindex(g, a, sort_index(a, ans, axis))


    @tangent(np.$f)
    def ${f}_tangent(a_dot, ans, a, $params):
        return gather(a_dot, sort_index(a, ans, axis))
""", [{"f": "sort", "params": "axis=-1, kind=None, order=None, *, stable=None, descending=False"},
      {"f": "partition", "params": 'kth, axis=-1, kind="introselect", order=None'}])


# --- views: flips, rotations, axes ------------------------------------------------------

views(np.flipud, np.fliplr, np.rot90, np.rollaxis)


# a flip is its own transpose (+ 0.0: the cotangent is a new array, not a view of g)
family(globals(), """
    @adjoint(np.$f)
    def $f(g, ans, m):
        return np.$f(g) + 0.0


    @tangent(np.$f)
    def ${f}_tangent(m_dot, ans, m):
        return np.$f(m_dot)
""", [{"f": "flipud"}, {"f": "fliplr"}])


@adjoint(np.rot90)
def rot90(g, ans, m, k=1, axes=(0, 1)):
    return np.rot90(g, -k, axes) + 0.0


@tangent(np.rot90)
def rot90_tangent(m_dot, ans, m, k=1, axes=(0, 1)):
    return np.rot90(m_dot, k, axes)


@adjoint(np.rollaxis)
def rollaxis(g, ans, a, axis, start=0):
    return np.moveaxis(g, rollaxis_destination(a, axis, start), axis) + 0.0


@tangent(np.rollaxis)
def rollaxis_tangent(a_dot, ans, a, axis, start=0):
    return np.rollaxis(a_dot, axis, start)


views(np.atleast_1d, np.atleast_2d, np.atleast_3d, every_argument=True)   # atleast_1d(x, y): each


family(globals(), """
    @adjoint(np.$f)
    def $f(g, ans, *arys):
        return unatleast(g, arys)


    @tangent(np.$f)
    def ${f}_tangent(arys_dot, ans, *arys):
        return as_tangent(np.$f(*arys_dot))
""", [{"f": "atleast_1d"}, {"f": "atleast_2d"}, {"f": "atleast_3d"}])


# --- joining and splitting ---------------------------------------------------------------

@adjoint(np.append)
def append(g, ans, arr, values, axis=None):
    parts = unappend(g, arr, values, axis)
    return parts[0], parts[1]


@tangent(np.append)
def append_tangent(arr_dot, values_dot, ans, arr, values, axis=None):
    return np.append(arr_dot, zeros_like(values), axis), np.append(zeros_like(arr), values_dot, axis)


family(globals(), STACKING, [{"f": "column_stack"}])


def row_stack(g, ans, tup, *, dtype=None, casting="same_kind"):
    return unvstack(g, tup)


def row_stack_tangent(tup_dot, ans, tup, *, dtype=None, casting="same_kind"):
    return np.vstack(tup_dot)


if hasattr(np, "row_stack"):            # deprecated in NumPy 2.0: an alias of vstack
    adjoint(np.row_stack)(row_stack)
    tangent(np.row_stack)(row_stack_tangent)


views(np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit)


# the pieces' cotangents are put back together along the axis split
family(globals(), """
    @adjoint(np.$f)
    def $f(g, ans, ary, indices_or_sections$axis_param):
        return unsplit(g, ary, $axis)


    @tangent(np.$f)
    def ${f}_tangent(ary_dot, ans, ary, indices_or_sections$axis_param):
        return as_tangent(np.$f(ary_dot, indices_or_sections$axis_arg))
""", [{"f": f, "axis_param": ", axis=0", "axis": "axis", "axis_arg": ", axis"} for f in ("split", "array_split")]
   + [{"f": f, "axis_param": "", "axis": axis, "axis_arg": ""}
      for f, axis in (("hsplit", "split_axis(ary, 1)"), ("vsplit", "0"), ("dsplit", "2"))])


@adjoint(np.meshgrid)
def meshgrid(g, ans, *xi, copy=True, sparse=False, indexing="xy"):
    return unmeshgrid(g, xi, indexing, sparse)


@tangent(np.meshgrid)
def meshgrid_tangent(xi_dot, ans, *xi, copy=True, sparse=False, indexing="xy"):
    return as_tangent(np.meshgrid(*xi_dot, copy=True, sparse=sparse, indexing=indexing))


# --- selection ---------------------------------------------------------------------------

@adjoint(np.select)
def select(g, ans, condlist, choicelist, default=0):
    return (None, select_adjoint(g, condlist, choicelist),
            unbroadcast(select_share(g, condlist, -1), default))


@tangent(np.select)
def select_tangent_(condlist_dot, choicelist_dot, default_dot, ans, condlist, choicelist, default=0):
    return (None, select_tangent(condlist, choicelist_dot, ans),
            select_default_tangent(condlist, default_dot, ans))


# --- casts ----------------------------------------------------------------------------------

@adjoint(np.ndarray.astype)
def astype(g, ans, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return unbroadcast(g * cast_factor(dtype), a)


@tangent(np.ndarray.astype)
def astype_tangent(a_dot, ans, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return a_dot * cast_factor(dtype) + zeros_like(ans)


if hasattr(np, "astype"):             # NumPy 2.1's array-API cast (SciPy's xp.astype(x, dtype))
    @adjoint(np.astype)
    def astype_function(g, ans, x, dtype, *, copy=True, device=None):
        return unbroadcast(g * cast_factor(dtype), x)

    @tangent(np.astype)
    def astype_function_tangent(x_dot, ans, x, dtype, *, copy=True, device=None):
        return x_dot * cast_factor(dtype) + zeros_like(ans)


nondifferentiable(np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                  np.uint64, np.intp, np.bool_)


# --- reductions and cumulative products ------------------------------------------------------

@delegated(np.cumprod, np.ndarray.cumprod)
def cumprod(g, ans, a, axis=None, dtype=None, out=None):
    return cumprod_adjoint(g, a, ans, axis)


@adjoint(np.nansum)
def nansum(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):
    """NaN elements are skipped: they get no gradient."""
    return repeat_to(g, a, axis, keepdims) * ~np.isnan(a)


@tangent(np.nansum)
def nansum_tangent(a_dot, ans, a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):
    return np.sum(np.where(np.isnan(a), 0.0, a_dot), axis=axis, keepdims=keepdims)


@adjoint(np.nanmean)
def nanmean(g, ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    return repeat_to(g, a, axis, keepdims) * ~np.isnan(a) / nan_count(a, axis, True)


@tangent(np.nanmean)
def nanmean_tangent(a_dot, ans, a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    return np.sum(np.where(np.isnan(a), 0.0, a_dot), axis=axis, keepdims=keepdims) \
        / nan_count(a, axis, keepdims)


@adjoint(np.average)
def average(g, ans, a, axis=None, weights=None, returned=False, *, keepdims=False):
    """ans = sum(w a) / sum(w): d/da = w / sum(w), d/dw = (a - ans) / sum(w)."""
    check = refuse_returned(returned)
    parts = average_weights(a, axis, np.ones(np.shape(a)) if weights is None else weights)
    spread = repeat_to(g, a, axis, keepdims) / parts[1]
    return (unbroadcast(spread * parts[0], a) + check,
            None, None if weights is None else
            unbroadcast_weights(spread * (a - repeat_to(ans, a, axis, keepdims)), weights, axis))


@tangent(np.average)
def average_tangent(a_dot, axis_dot, weights_dot, ans, a, axis=None, weights=None, returned=False, *,
                    keepdims=False):
    check = refuse_returned(returned)
    parts = average_weights(a, axis, np.ones(np.shape(a)) if weights is None else weights)
    return (np.sum(a_dot * parts[0], axis=axis, keepdims=keepdims) / sum_kept(parts[1], axis, keepdims)
            + check,
            None,
            None if weights is None else
            np.sum(reshape_weights(weights_dot, a, axis) * (a - repeat_to(ans, a, axis, keepdims)),
                   axis=axis, keepdims=keepdims) / sum_kept(parts[1], axis, keepdims))


# --- elementwise ------------------------------------------------------------------------------

unary(globals(), [
    ("sinc",        np.sinc,                  "g * sinc_derivative(x)"),
    ("deg2rad",     (np.deg2rad, np.radians), "g * (np.pi / 180.0)"),
    ("rad2deg",     (np.rad2deg, np.degrees), "g * (180.0 / np.pi)"),
    ("nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None)", np.nan_to_num, "g * np.isfinite(x)"),
])


# real, imag, conj and angle of real arrays: srcad differentiates real functions
# of real inputs, where real and conj are the identity and imag and angle constant.

@adjoint(np.real)
def real(g, ans, val):
    return unbroadcast(g, val) + 0.0


@tangent(np.real)
def real_tangent(val_dot, ans, val):
    return val_dot


unary(globals(), [
    ("conjugate",         np.conjugate,  "g"),
    ("imag(val)",         np.imag,       "zeros_like(val)"),
    ("angle(z, deg=False)", np.angle,    "zeros_like(z)", "0 or pi on real input: piecewise constant."),
])


# --- products and differences ------------------------------------------------------------------

@adjoint(np.kron)
def kron(g, ans, a, b):
    return kron_adjoint(g, a, b, 0), kron_adjoint(g, a, b, 1)


@tangent(np.kron)
def kron_tangent(a_dot, b_dot, ans, a, b):
    return np.kron(a_dot, b), np.kron(a, b_dot)


@adjoint(np.cross)
def cross(g, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return (cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 0),
            cross_adjoint(g, a, b, axisa, axisb, axisc, axis, 1))


@tangent(np.cross)
def cross_tangent(a_dot, b_dot, ans, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    return np.cross(a_dot, b, axisa, axisb, axisc, axis), np.cross(a, b_dot, axisa, axisb, axisc, axis)


@adjoint(np.convolve)
def convolve(g, ans, a, v, mode="full"):
    return convolve_adjoint(g, a, v, mode, 0), convolve_adjoint(g, a, v, mode, 1)


@tangent(np.convolve)
def convolve_tangent(a_dot, v_dot, ans, a, v, mode="full"):
    return np.convolve(a_dot, v, mode), np.convolve(a, v_dot, mode)


@adjoint(np.diff)
def diff(g, ans, a, n=1, axis=-1, prepend=None, append=None):
    """``prepend`` and ``append`` are constants."""
    return diff_adjoint(g, a, n, axis, prepend, append)


@tangent(np.diff)
def diff_tangent_(a_dot, ans, a, n=1, axis=-1, prepend=None, append=None):
    return diff_tangent(a_dot, n, axis, prepend, append)


@adjoint(np.gradient)
def gradient(g, ans, f, *varargs, axis=None, edge_order=1):
    """The spacings ``varargs`` are constants."""
    return gradient_adjoint(g, f, varargs, axis, edge_order)


@tangent(np.gradient)
def gradient_tangent(f_dot, ans, f, *varargs, axis=None, edge_order=1):
    return as_tangent(np.gradient(f_dot, *varargs, axis=axis, edge_order=edge_order))


# --- the helpers above, so that generated gradients differentiate again (hessian) ----------

@adjoint(unindex)
def unindex_(g, ans, cotangent, x, index):
    """unindex and gather are each other's transpose."""
    return gather(g, index), zeros_like(x), None


@tangent(unindex)
def unindex_tangent(cotangent_dot, x_dot, index_dot, ans, cotangent, x, index):
    return unindex(cotangent_dot, x, index), zeros_like(ans), None


@adjoint(gather)
def gather_(g, ans, x_dot, index):
    return unindex(g, x_dot, index), None


@tangent(gather)
def gather_tangent(x_dot_dot, index_dot, ans, x_dot, index):
    return gather(x_dot_dot, index), None


nondifferentiable(index_map, pad_index, sort_index, rollaxis_destination, split_axis, cast_factor,
                  nan_count)


# --- np.r_[x, y], np.c_[x, y]: the graph rewrites the subscript into these calls -------------

family(globals(), """
    @adjoint(${f}_concat)
    def ${f}_concat_(g, ans, *items):
        return concat_adjoint(g, items, np.${f}_)


    @tangent(${f}_concat)
    def ${f}_concat_tangent(items_dot, ans, *items):
        return concat_tangent(items_dot, items, np.${f}_)
""", [{"f": "r"}, {"f": "c"}])


views(np.real_if_close)


@adjoint(np.real_if_close)
def real_if_close(g, ans, a, tol=100):
    """Real input: the identity."""
    return unbroadcast(g, a) + 0.0


@tangent(np.real_if_close)
def real_if_close_tangent(a_dot, ans, a, tol=100):
    return a_dot
