"""Reverse and forward rules of the runtime helpers that generated code calls.

A gradient is itself generated code: ``unbroadcast(dp, x)``,
``repeat_to(dout, x, None, False)``, ``matmul_adjoint_x(dh, x, W)``...  To
differentiate it again (``srcad.hessian`` is the tangent of a gradient,
``srcad.grad(srcad.grad(f))`` its adjoint) each helper needs rules, here.

Most helpers are linear in the cotangent they receive and read another
argument for its shape only; that argument's derivative is ``zeros_like``, a
symbolic zero the generators skip (see :mod:`srcad.rules.registry`).  A
helper's first parameter ``g`` is called ``cotangent`` here, since ``g`` leads
every reverse rule; helpers are called positionally, so the name is free.
Bilinear helpers (``matmul_adjoint_x(g, x, y)`` is linear in ``g`` and in
``y``) follow from ``<h, A(g, y)> = <g, x @ y>`` evaluated at ``x = h``.
"""

import builtins

import numpy as np

from srcad.objects import attribute_adjoint, attribute_tangent
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import (concat_adjoint_x, concat_adjoint_y, concat_tangent_x, concat_tangent_y,
                           repeat_adjoint, repeat_tangent, repeats, unlist)
from srcad.runtime import (Adjoints, add_at, add_into, drop_last, owned, readonly, released, real_sign, broadcast_like, check_scalar, checked, complete, dict_values, like,
                           dict_adjoint, dict_tangent,
                           dot_adjoint_a, saved_entry, values_of,
                           dot_adjoint_b, inner_adjoint_a, inner_adjoint_b, inverse_permutation,
                           matmul_adjoint_x, matmul_adjoint_y, norm_divisor, dot_self_adjoint, matmul_self_adjoint, shape_of, packed, prod_others,
                           prod_others_tangent, reduced_count, repeat_to, scatter_add,
                           solve_is_vector, spread, unarray, unbroadcast, unconcatenate, unhstack,
                           unstack, unvstack, within, without, zeros_like)


views(check_scalar)             # the value itself, once checked


@adjoint(check_scalar)
def check_scalar_(g, ans, value):
    return g


@tangent(check_scalar)
def check_scalar_tangent(value_dot, ans, value):
    return value_dot


views(checked)                  # the gradient itself, once its shape is checked


@adjoint(checked)
def checked_(g, ans, cotangent, x, rule):
    return g, zeros_like(x), None


@tangent(checked)
def checked_tangent(cotangent_dot, x_dot, rule_dot, ans, cotangent, x, rule):
    return cotangent_dot, zeros_like(ans), None


# --- broadcasting: unbroadcast and broadcast_like are each other's adjoint ----------

views(unbroadcast)              # g itself when no axis is summed


@adjoint(unbroadcast)
def unbroadcast_(g, ans, cotangent, x):
    return broadcast_like(g, cotangent), zeros_like(x)


@tangent(unbroadcast)
def unbroadcast_tangent(cotangent_dot, x_dot, ans, cotangent, x):
    return unbroadcast(cotangent_dot, x), zeros_like(ans)


views(broadcast_like)


@adjoint(broadcast_like)
def broadcast_like_(g, ans, value, like):
    return unbroadcast(g, value), zeros_like(like)


@tangent(broadcast_like)
def broadcast_like_tangent(value_dot, like_dot, ans, value, like):
    return broadcast_like(value_dot, like), zeros_like(ans)


@adjoint(repeat_to)
def repeat_to_(g, ans, cotangent, x, axis=None, keepdims=False):
    """repeat_to spreads over the reduced axes; its adjoint sums over them."""
    return np.reshape(np.sum(g, axis=axis, keepdims=True), np.shape(cotangent)), zeros_like(x)


@tangent(repeat_to)
def repeat_to_tangent(cotangent_dot, x_dot, ans, cotangent, x, axis=None, keepdims=False):
    return repeat_to(cotangent_dot, x, axis, keepdims), zeros_like(ans)


# --- indexing: scatter_add and getitem, without and itself -----------------------------

@adjoint(scatter_add)
def scatter_add_(g, ans, cotangent, x, index):
    return unbroadcast(g[index], cotangent), zeros_like(x), None


@tangent(scatter_add)
def scatter_add_tangent(cotangent_dot, x_dot, index_dot, ans, cotangent, x, index):
    return scatter_add(cotangent_dot, x, index), zeros_like(ans), None


@adjoint(add_at)
def add_at_(g, ans, dx, cotangent, x, index):
    return g, unbroadcast(g[index], cotangent), zeros_like(x), None


@tangent(add_at)
def add_at_tangent(dx_dot, cotangent_dot, x_dot, index_dot, ans, dx, cotangent, x, index):
    return broadcast_like(dx_dot, ans), scatter_add(cotangent_dot, x, index), zeros_like(ans), None


@adjoint(without)
def without_(g, ans, cotangent, index, primal=None):
    return without(g, index, primal), None, zeros_like(primal)


@tangent(without)
def without_tangent(cotangent_dot, index_dot, primal_dot, ans, cotangent, index, primal=None):
    return without(cotangent_dot, index, primal), None, zeros_like(ans)


# --- products: bilinear in the cotangent and the other operand ---------------------------

@adjoint(matmul_adjoint_x)
def matmul_adjoint_x_(g, ans, cotangent, x, y):
    return g @ y, zeros_like(x), matmul_adjoint_y(cotangent, g, y)


@tangent(matmul_adjoint_x)
def matmul_adjoint_x_tangent(cotangent_dot, x_dot, y_dot, ans, cotangent, x, y):
    return (matmul_adjoint_x(cotangent_dot, x, y), zeros_like(ans),
            matmul_adjoint_x(cotangent, x, y_dot))


@adjoint(matmul_adjoint_y)
def matmul_adjoint_y_(g, ans, cotangent, x, y):
    return x @ g, matmul_adjoint_x(cotangent, x, g), zeros_like(y)


@tangent(matmul_adjoint_y)
def matmul_adjoint_y_tangent(cotangent_dot, x_dot, y_dot, ans, cotangent, x, y):
    return (matmul_adjoint_y(cotangent_dot, x, y), matmul_adjoint_y(cotangent, x_dot, y),
            zeros_like(ans))


@adjoint(dot_adjoint_a)
def dot_adjoint_a_(g, ans, cotangent, a, b):
    return np.dot(g, b), zeros_like(a), dot_adjoint_b(cotangent, g, b)


@tangent(dot_adjoint_a)
def dot_adjoint_a_tangent(cotangent_dot, a_dot, b_dot, ans, cotangent, a, b):
    return dot_adjoint_a(cotangent_dot, a, b), zeros_like(ans), dot_adjoint_a(cotangent, a, b_dot)


@adjoint(dot_adjoint_b)
def dot_adjoint_b_(g, ans, cotangent, a, b):
    return np.dot(a, g), dot_adjoint_a(cotangent, a, g), zeros_like(b)


@tangent(dot_adjoint_b)
def dot_adjoint_b_tangent(cotangent_dot, a_dot, b_dot, ans, cotangent, a, b):
    return dot_adjoint_b(cotangent_dot, a, b), dot_adjoint_b(cotangent, a_dot, b), zeros_like(ans)


# x @ x and np.dot(x, x): the two cotangents at once; their rules are the sums
# of the two helpers' rules with both operands x
@adjoint(matmul_self_adjoint)
def matmul_self_adjoint_(g, ans, cotangent, x):
    return g @ x + x @ g, matmul_adjoint_y(cotangent, g, x) + matmul_adjoint_x(cotangent, x, g)


@tangent(matmul_self_adjoint)
def matmul_self_adjoint_tangent(cotangent_dot, x_dot, ans, cotangent, x):
    return (matmul_self_adjoint(cotangent_dot, x),
            matmul_adjoint_x(cotangent, x, x_dot) + matmul_adjoint_y(cotangent, x_dot, x))


@adjoint(dot_self_adjoint)
def dot_self_adjoint_(g, ans, cotangent, x):
    return np.dot(g, x) + np.dot(x, g), dot_adjoint_b(cotangent, g, x) + dot_adjoint_a(cotangent, x, g)


@tangent(dot_self_adjoint)
def dot_self_adjoint_tangent(cotangent_dot, x_dot, ans, cotangent, x):
    return (dot_self_adjoint(cotangent_dot, x),
            dot_adjoint_a(cotangent, x, x_dot) + dot_adjoint_b(cotangent, x_dot, x))


@adjoint(inner_adjoint_a)
def inner_adjoint_a_(g, ans, cotangent, a, b):
    return np.inner(g, b), zeros_like(a), inner_adjoint_b(cotangent, g, b)


@tangent(inner_adjoint_a)
def inner_adjoint_a_tangent(cotangent_dot, a_dot, b_dot, ans, cotangent, a, b):
    return inner_adjoint_a(cotangent_dot, a, b), zeros_like(ans), inner_adjoint_a(cotangent, a, b_dot)


@adjoint(inner_adjoint_b)
def inner_adjoint_b_(g, ans, cotangent, a, b):
    return np.inner(a, g), inner_adjoint_a(cotangent, a, g), zeros_like(b)


@tangent(inner_adjoint_b)
def inner_adjoint_b_tangent(cotangent_dot, a_dot, b_dot, ans, cotangent, a, b):
    return inner_adjoint_b(cotangent_dot, a, b), inner_adjoint_b(cotangent, a_dot, b), zeros_like(ans)


@adjoint(prod_others)
def prod_others_(g, ans, a, axis=None):
    """The second derivatives of prod form a symmetric matrix: the cotangent
    is the same product as the tangent."""
    return prod_others_tangent(a, g, axis)


@tangent(prod_others)
def prod_others_tangent_(a_dot, ans, a, axis=None):
    return prod_others_tangent(a, a_dot, axis)


@adjoint(norm_divisor)
def norm_divisor_(g, ans, norm, x, ord=None, axis=None):
    return np.where(norm == 0, 0.0, g), zeros_like(x)


@tangent(norm_divisor)
def norm_divisor_tangent(norm_dot, x_dot, ans, norm, x, ord=None, axis=None):
    return np.where(norm == 0, 0.0, norm_dot), zeros_like(ans)


# --- sequences: cut apart and put together ------------------------------------------

views(unconcatenate, unstack, unhstack, unvstack, unarray, spread)   # pieces of g


@adjoint(unconcatenate)
def unconcatenate_(g, ans, cotangent, arrays, axis=0):
    return np.concatenate(g, axis), zeros_like(arrays)


@tangent(unconcatenate)
def unconcatenate_tangent(cotangent_dot, arrays_dot, ans, cotangent, arrays, axis=0):
    return unconcatenate(cotangent_dot, arrays, axis), zeros_like(ans)


@adjoint(unstack)
def unstack_(g, ans, cotangent, axis=0):
    return np.stack(g, axis)


@tangent(unstack)
def unstack_tangent(cotangent_dot, ans, cotangent, axis=0):
    return unstack(cotangent_dot, axis)


@adjoint(unhstack)
def unhstack_(g, ans, cotangent, tup):
    return np.hstack(g), zeros_like(tup)


@tangent(unhstack)
def unhstack_tangent(cotangent_dot, tup_dot, ans, cotangent, tup):
    return unhstack(cotangent_dot, tup), zeros_like(ans)


@adjoint(unvstack)
def unvstack_(g, ans, cotangent, tup):
    return np.vstack(g), zeros_like(tup)


@tangent(unvstack)
def unvstack_tangent(cotangent_dot, tup_dot, ans, cotangent, tup):
    return unvstack(cotangent_dot, tup), zeros_like(ans)


views(owned, released, drop_last)   # the very elements, in another container


@adjoint(owned)
def owned_(g, ans, d):
    return released(g)


@tangent(owned)
def owned_tangent(d_dot, ans, d):
    return owned(d_dot)


@adjoint(released)
def released_(g, ans, d):
    return g


@tangent(released)
def released_tangent(d_dot, ans, d):
    return released(d_dot)


@adjoint(add_into)
def add_into_(g, ans, d, cotangent, x, index):
    return g, unbroadcast(g[index], cotangent), zeros_like(x), None


@tangent(add_into)
def add_into_tangent(d_dot, cotangent_dot, x_dot, index_dot, ans, d, cotangent, x, index):
    return broadcast_like(d_dot, ans), scatter_add(cotangent_dot, x, index), zeros_like(ans), None


@adjoint(drop_last)
def drop_last_(g, ans, d):
    return Adjoints((*g, zeros_like(d[-1])))


@tangent(drop_last)
def drop_last_tangent(d_dot, ans, d):
    return drop_last(d_dot)


views(readonly)                 # a read-only view of the very array


@adjoint(readonly)
def readonly_(g, ans, x):
    return g


@tangent(readonly)
def readonly_tangent(x_dot, ans, x):
    return x_dot


views(Adjoints)                 # a tuple of the very elements


@adjoint(Adjoints)
def adjoints_(g, ans, iterable):
    return Adjoints(g)


@tangent(Adjoints)
def adjoints_tangent(iterable_dot, ans, iterable):
    return Adjoints(iterable_dot)


@adjoint(unarray)
def unarray_(g, ans, cotangent, obj):
    return np.reshape(np.array(g, dtype=np.float64), np.shape(cotangent)), zeros_like(obj)


@tangent(unarray)
def unarray_tangent(cotangent_dot, obj_dot, ans, cotangent, obj):
    return unarray(cotangent_dot, obj), zeros_like(ans)


@adjoint(spread)
def spread_(g, ans, cotangent, items):
    return broadcast_like(builtins.sum(g), cotangent), zeros_like(items)


@tangent(spread)
def spread_tangent(cotangent_dot, items_dot, ans, cotangent, items):
    return spread(cotangent_dot, items), zeros_like(ans)


# --- dicts: completing an adjoint, values in and out, a saved entry ----------------------

views(complete, dict_values, values_of, saved_entry)   # entries of their argument


@adjoint(complete)
def complete_(g, ans, cotangent):
    return g


@tangent(complete)
def complete_tangent(cotangent_dot, ans, cotangent):
    return cotangent_dot


views(like)


@adjoint(like)
def like_(g, ans, gradient, x):
    # like() only changes structure and dtype: the cotangent goes back in the
    # structure of the inner gradient; x is read for its structure only
    return like(g, gradient), zeros_like(x)


@tangent(like)
def like_tangent(gradient_dot, x_dot, ans, gradient, x):
    return like(gradient_dot, x), zeros_like(ans)


@adjoint(dict_values)
def dict_values_(g, ans, cotangent, d):
    return values_of(g, d), zeros_like(d)


@tangent(dict_values)
def dict_values_tangent(cotangent_dot, d_dot, ans, cotangent, d):
    return dict_values(cotangent_dot, d), zeros_like(ans)


@adjoint(values_of)
def values_of_(g, ans, cotangent, d):
    return dict_values(g, d), zeros_like(d)


@tangent(values_of)
def values_of_tangent(cotangent_dot, d_dot, ans, cotangent, d):
    return values_of(cotangent_dot, d), zeros_like(ans)


@adjoint(saved_entry)
def saved_entry_(g, ans, x, index):
    return scatter_add(g, x, index), None


@tangent(saved_entry)
def saved_entry_tangent(x_dot, index_dot, ans, x, index):
    return saved_entry(x_dot, index), None


nondifferentiable(real_sign, zeros_like, within, reduced_count, inverse_permutation, packed, solve_is_vector,
                  shape_of)


# --- tuple/list concatenation and repetition: linear in the cotangent or tangent ------

@tangent(concat_adjoint_x)
def concat_adjoint_x_tangent(cotangent_dot, x_dot, y_dot, ans, cotangent, x, y):
    return concat_adjoint_x(cotangent_dot, x, y), zeros_like(ans), zeros_like(ans)


@tangent(concat_adjoint_y)
def concat_adjoint_y_tangent(cotangent_dot, x_dot, y_dot, ans, cotangent, x, y):
    return concat_adjoint_y(cotangent_dot, x, y), zeros_like(ans), zeros_like(ans)


@tangent(concat_tangent_x)
def concat_tangent_x_tangent(t_dot, x_dot, y_dot, ans, t, x, y):
    return concat_tangent_x(t_dot, x, y), zeros_like(ans), zeros_like(ans)


@tangent(concat_tangent_y)
def concat_tangent_y_tangent(t_dot, x_dot, y_dot, ans, t, x, y):
    return concat_tangent_y(t_dot, x, y), zeros_like(ans), zeros_like(ans)


@tangent(repeat_adjoint)
def repeat_adjoint_tangent(cotangent_dot, x_dot, n_dot, ans, cotangent, x, n):
    """Linear in the cotangent; in the elementwise case (``unbroadcast(g * n, x)``)
    linear in ``n`` too, while a repetition count is an integer."""
    return (repeat_adjoint(cotangent_dot, x, n), zeros_like(ans),
            zeros_like(ans) if repeats(x, n) or repeats(n, x) else repeat_adjoint(cotangent, x, n_dot))


@tangent(repeat_tangent)
def repeat_tangent_tangent(t_dot, x_dot, n_dot, ans, t, x, n):
    return (repeat_tangent(t_dot, x, n), zeros_like(ans),
            zeros_like(ans) if repeats(x, n) or repeats(n, x) else repeat_tangent(t, x, n_dot))


@tangent(unlist)
def unlist_tangent(cotangent_dot, iterable_dot, ans, cotangent, iterable):
    return unlist(cotangent_dot, iterable), zeros_like(ans)


# their reverse rules: each linear map's transpose (concatenating <-> splitting,
# copying <-> summing the copies)

@adjoint(concat_adjoint_x)
def concat_adjoint_x_(g, ans, cotangent, x, y):
    return concat_tangent_x(g, x, y), zeros_like(x), zeros_like(y)


views(concat_adjoint_y, concat_tangent_y, repeat_tangent, unlist)   # slices and elements of their input


@adjoint(concat_adjoint_y)
def concat_adjoint_y_(g, ans, cotangent, x, y):
    return concat_tangent_y(g, x, y), zeros_like(x), zeros_like(y)


@adjoint(concat_tangent_x)
def concat_tangent_x_(g, ans, t, x, y):
    return concat_adjoint_x(g, x, y), zeros_like(x), zeros_like(y)


@adjoint(concat_tangent_y)
def concat_tangent_y_(g, ans, t, x, y):
    return concat_adjoint_y(g, x, y), zeros_like(x), zeros_like(y)


@adjoint(repeat_adjoint)
def repeat_adjoint_(g, ans, cotangent, x, n):
    return (repeat_tangent(g, x, n), zeros_like(x),
            zeros_like(n) if repeats(x, n) or repeats(n, x) else
            unbroadcast(broadcast_like(np.asarray(g, dtype=np.float64), cotangent) * cotangent, n))


@adjoint(repeat_tangent)
def repeat_tangent_(g, ans, t, x, n):
    return (repeat_adjoint(g, x, n), zeros_like(x),
            zeros_like(n) if repeats(x, n) or repeats(n, x) else unbroadcast(g * broadcast_like(t, g), n))


@adjoint(unlist)
def unlist_(g, ans, cotangent, iterable):
    return Adjoints(g), zeros_like(iterable)


# --- objects: attribute_adjoint and attribute_tangent read each other back -------------

views(attribute_adjoint, attribute_tangent)   # the cotangent itself, held or read back

@adjoint(attribute_adjoint)
def attribute_adjoint_(g, ans, cotangent, obj, name):
    return attribute_tangent(g, obj, name), zeros_like(obj), None


@tangent(attribute_adjoint)
def attribute_adjoint_tangent(cotangent_dot, obj_dot, name_dot, ans, cotangent, obj, name):
    return attribute_adjoint(cotangent_dot, obj, name), zeros_like(ans), None


@adjoint(attribute_tangent)
def attribute_tangent_(g, ans, t, obj, name):
    return attribute_adjoint(g, obj, name), zeros_like(obj), None


@tangent(attribute_tangent)
def attribute_tangent_tangent(t_dot, obj_dot, name_dot, ans, t, obj, name):
    return attribute_tangent(t_dot, obj, name), zeros_like(ans), None


# --- dict(m): dict_adjoint and dict_tangent are each other's transpose ------------------

views(dict_adjoint, dict_tangent)            # entries of their first argument

@adjoint(dict_adjoint)
def dict_adjoint_(g, ans, cotangent, iterable):
    return dict_tangent(g, None, iterable), zeros_like(iterable)


@tangent(dict_adjoint)
def dict_adjoint_tangent(cotangent_dot, iterable_dot, ans, cotangent, iterable):
    return dict_adjoint(cotangent_dot, iterable), zeros_like(ans)


@adjoint(dict_tangent)
def dict_tangent_(g, ans, tangent, primal, iterable):
    return dict_adjoint(g, iterable), zeros_like(primal), zeros_like(iterable)


@tangent(dict_tangent)
def dict_tangent_tangent(tangent_dot, primal_dot, iterable_dot, ans, tangent, primal, iterable):
    return dict_tangent(tangent_dot, primal, iterable), zeros_like(ans), zeros_like(ans)
