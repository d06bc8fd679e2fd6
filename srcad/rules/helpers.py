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

A helper linear in its first argument has as forward rule the helper itself
applied to the tangent, so the tables below (:func:`~srcad.rules.families.transposes`)
give only its transpose: the reverse rule.
"""

import builtins

import numpy as np

from srcad.objects import attribute_adjoint, attribute_tangent
from srcad.rules.families import elementwise, family, transposes, unary
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
views(checked)                  # the gradient itself, once its shape is checked
views(readonly)                 # a read-only view of the very array

# helpers that return their argument (checked, or made read-only): the identity
unary(globals(), [
    ("check_scalar_(value)",  check_scalar,  "g"),
    ("readonly_",             readonly,      "g"),
    ("complete_(cotangent)",  complete,      "g"),
])


@elementwise(checked)
def checked_(g, ans, cotangent, x, rule):
    return g, zeros_like(x), None


views(unbroadcast)              # g itself when no axis is summed
views(broadcast_like)
views(unconcatenate, unstack, unhstack, unvstack, unarray, spread)   # pieces of g
views(owned, released, drop_last)   # the very elements, in another container
views(Adjoints)                 # a tuple of the very elements
views(complete, dict_values, values_of, saved_entry)   # entries of their argument
views(like)
views(concat_adjoint_y, concat_tangent_y, unlist)   # slices and elements of their input
views(attribute_adjoint, attribute_tangent)   # the cotangent itself, held or read back
views(dict_adjoint, dict_tangent)            # entries of their first argument

transposes(globals(), [
    # helper          its parameters                          the reverse rule: its transpose applied to g, ...

    # broadcasting: unbroadcast and broadcast_like are each other's adjoint
    (unbroadcast,     "cotangent, x",                         "broadcast_like(g, cotangent), zeros_like(x)"),
    (broadcast_like,  "value, like",                          "unbroadcast(g, value), zeros_like(like)"),
    (repeat_to,       "cotangent, x, axis=None, keepdims=False",
     "np.reshape(np.sum(g, axis=axis, keepdims=True), np.shape(cotangent)), zeros_like(x)",
     "repeat_to spreads over the reduced axes; its adjoint sums over them."),

    # indexing: scatter_add and getitem, without and itself
    (scatter_add,     "cotangent, x, index",                  "unbroadcast(g[index], cotangent), zeros_like(x), None"),
    (without,         "cotangent, index, primal=None",        "without(g, index, primal), None, zeros_like(primal)"),

    # sequences: cut apart and put together
    (unconcatenate,   "cotangent, arrays, axis=0",            "np.concatenate(g, axis), zeros_like(arrays)"),
    (unstack,         "cotangent, axis=0",                    "np.stack(g, axis)"),
    (unhstack,        "cotangent, tup",                       "np.hstack(g), zeros_like(tup)"),
    (unvstack,        "cotangent, tup",                       "np.vstack(g), zeros_like(tup)"),
    (owned,           "d",                                    "released(g)"),
    (released,        "d",                                    "g"),
    (drop_last,       "d",                                    "Adjoints((*g, zeros_like(d[-1])))"),
    (Adjoints,        "iterable",                             "Adjoints(g)"),
    (unarray,         "cotangent, obj",
     "np.reshape(np.array(g, dtype=np.float64), np.shape(cotangent)), zeros_like(obj)"),
    (spread,          "cotangent, items",                     "broadcast_like(builtins.sum(g), cotangent), zeros_like(items)"),

    # dicts: values in and out, a saved entry; like() only changes structure and
    # dtype: the cotangent goes back in the structure of the inner gradient
    (like,            "gradient, x",                          "like(g, gradient), zeros_like(x)"),
    (dict_values,     "cotangent, d",                         "values_of(g, d), zeros_like(d)"),
    (values_of,       "cotangent, d",                         "dict_values(g, d), zeros_like(d)"),
    (saved_entry,     "x, index",                             "scatter_add(g, x, index), None"),

    # tuple/list concatenation: concatenating <-> splitting
    (concat_adjoint_x, "cotangent, x, y",                     "concat_tangent_x(g, x, y), zeros_like(x), zeros_like(y)"),
    (concat_adjoint_y, "cotangent, x, y",                     "concat_tangent_y(g, x, y), zeros_like(x), zeros_like(y)"),
    (concat_tangent_x, "t, x, y",                             "concat_adjoint_x(g, x, y), zeros_like(x), zeros_like(y)"),
    (concat_tangent_y, "t, x, y",                             "concat_adjoint_y(g, x, y), zeros_like(x), zeros_like(y)"),
    (unlist,          "cotangent, iterable",                  "Adjoints(g), zeros_like(iterable)"),

    # objects: attribute_adjoint and attribute_tangent read each other back
    (attribute_adjoint, "cotangent, obj, name",               "attribute_tangent(g, obj, name), zeros_like(obj), None"),
    (attribute_tangent, "t, obj, name",                       "attribute_adjoint(g, obj, name), zeros_like(obj), None"),

    # dict(m): dict_adjoint and dict_tangent are each other's transpose
    (dict_adjoint,    "cotangent, iterable",                  "dict_tangent(g, None, iterable), zeros_like(iterable)"),
    (dict_tangent,    "tangent, primal, iterable",
     "dict_adjoint(g, iterable), zeros_like(primal), zeros_like(iterable)"),
])


# --- adding into an adjoint: add_at (arrays) and add_into (dicts), the same rules --------

family(globals(), """
    @adjoint($helper)
    def ${helper}_(g, ans, $into, cotangent, x, index):
        return g, unbroadcast(g[index], cotangent), zeros_like(x), None


    @tangent($helper)
    def ${helper}_tangent(${into}_dot, cotangent_dot, x_dot, index_dot, ans, $into, cotangent, x, index):
        return broadcast_like(${into}_dot, ans), scatter_add(cotangent_dot, x, index), zeros_like(ans), None
""", [{"helper": "add_at", "into": "dx"}, {"helper": "add_into", "into": "d"}])


# --- products: bilinear in the cotangent and the other operand ---------------------------
# ``op_adjoint_a(g, a, b)`` is the cotangent of a in op(a, b), linear in g and b

family(globals(), """
    @adjoint(${op}_adjoint_$a)
    def ${op}_adjoint_${a}_(g, ans, cotangent, $a, $b):
        return $g_b, zeros_like($a), ${op}_adjoint_$b(cotangent, g, $b)


    @tangent(${op}_adjoint_$a)
    def ${op}_adjoint_${a}_tangent(cotangent_dot, ${a}_dot, ${b}_dot, ans, cotangent, $a, $b):
        return ${op}_adjoint_$a(cotangent_dot, $a, $b), zeros_like(ans), ${op}_adjoint_$a(cotangent, $a, ${b}_dot)


    @adjoint(${op}_adjoint_$b)
    def ${op}_adjoint_${b}_(g, ans, cotangent, $a, $b):
        return $a_g, ${op}_adjoint_$a(cotangent, $a, g), zeros_like($b)


    @tangent(${op}_adjoint_$b)
    def ${op}_adjoint_${b}_tangent(cotangent_dot, ${a}_dot, ${b}_dot, ans, cotangent, $a, $b):
        return ${op}_adjoint_$b(cotangent_dot, $a, $b), ${op}_adjoint_$b(cotangent, ${a}_dot, $b), zeros_like(ans)
""", [{"op": "matmul", "a": "x", "b": "y", "g_b": "g @ y", "a_g": "x @ g"},
      {"op": "dot", "a": "a", "b": "b", "g_b": "np.dot(g, b)", "a_g": "np.dot(a, g)"},
      {"op": "inner", "a": "a", "b": "b", "g_b": "np.inner(g, b)", "a_g": "np.inner(a, g)"}])


# x @ x and np.dot(x, x): the two cotangents at once (passes/fanout.merge_self_products);
# their rules are the sums of the two helpers' rules above with both operands x

family(globals(), """
    @adjoint(${op}_self_adjoint)
    def ${op}_self_adjoint_(g, ans, cotangent, x):
        return $g_x + $x_g, ${op}_adjoint_$b(cotangent, g, x) + ${op}_adjoint_$a(cotangent, x, g)


    @tangent(${op}_self_adjoint)
    def ${op}_self_adjoint_tangent(cotangent_dot, x_dot, ans, cotangent, x):
        return (${op}_self_adjoint(cotangent_dot, x),
                ${op}_adjoint_$a(cotangent, x, x_dot) + ${op}_adjoint_$b(cotangent, x_dot, x))
""", [{"op": "matmul", "a": "x", "b": "y", "g_x": "g @ x", "x_g": "x @ g"},
      {"op": "dot", "a": "a", "b": "b", "g_x": "np.dot(g, x)", "x_g": "np.dot(x, g)"}])


@elementwise(prod_others, tangent_name="prod_others_tangent_")
def prod_others_(g, ans, a, axis=None):
    """The second derivatives of prod form a symmetric matrix: the cotangent
    is the same product as the tangent."""
    return prod_others_tangent(a, g, axis)


@elementwise(norm_divisor)
def norm_divisor_(g, ans, norm, x, ord=None, axis=None):
    return np.where(norm == 0, 0.0, g), zeros_like(x)


nondifferentiable(real_sign, zeros_like, within, reduced_count, inverse_permutation, packed, solve_is_vector,
                  shape_of)


# --- tuple/list repetition: copying <-> summing the copies ----------------------------

views(repeat_tangent)           # elements of its input


@adjoint(repeat_adjoint)
def repeat_adjoint_(g, ans, cotangent, x, n):
    return (repeat_tangent(g, x, n), zeros_like(x),
            zeros_like(n) if repeats(x, n) or repeats(n, x) else
            unbroadcast(broadcast_like(np.asarray(g, dtype=np.float64), cotangent) * cotangent, n))


@tangent(repeat_adjoint)
def repeat_adjoint_tangent(cotangent_dot, x_dot, n_dot, ans, cotangent, x, n):
    """Linear in the cotangent; in the elementwise case (``unbroadcast(g * n, x)``)
    linear in ``n`` too, while a repetition count is an integer."""
    return (repeat_adjoint(cotangent_dot, x, n), zeros_like(ans),
            zeros_like(ans) if repeats(x, n) or repeats(n, x) else repeat_adjoint(cotangent, x, n_dot))


@adjoint(repeat_tangent)
def repeat_tangent_(g, ans, t, x, n):
    return (repeat_adjoint(g, x, n), zeros_like(x),
            zeros_like(n) if repeats(x, n) or repeats(n, x) else unbroadcast(g * broadcast_like(t, g), n))


@tangent(repeat_tangent)
def repeat_tangent_tangent(t_dot, x_dot, n_dot, ans, t, x, n):
    return (repeat_tangent(t_dot, x, n), zeros_like(ans),
            zeros_like(ans) if repeats(x, n) or repeats(n, x) else repeat_tangent(t, x, n_dot))
