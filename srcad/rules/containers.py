"""Reverse and forward rules of lists, tuples and dicts: building, appending,
stacking, summing, dict methods.

The adjoint of a list is an :class:`~srcad.runtime.Adjoints`, one adjoint per
element, whose ``+`` adds elementwise; so is the tangent of a list.  The
adjoint of a dict is a :class:`~srcad.runtime.DictAdjoints`, which holds the
entries that received an adjoint and reads the others as zeros.
"""

import builtins

import numpy as np

from srcad.objects import attribute, attribute_adjoint, attribute_tangent
from srcad.rules.families import elementwise
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import (Adjoints, broadcast_like, concat_adjoint_x, concat_adjoint_y,
                           concat_tangent_x, concat_tangent_y, dict_adjoint, dict_tangent, dict_values, list_append,
                           repeat_adjoint, repeat_tangent, scatter_add, seq_add, seq_mul, spread,
                           unarray, unlist, values_of, zeros_like)


@adjoint(list_append)
def append(g, ans, items, value):
    return Adjoints(g[:-1]), g[-1]


@tangent(list_append)
def append_tangent(items_dot, value_dot, ans, items, value):
    """ans is the list after the append (the same object as items): its tangent
    is the old tangent with the value's tangent after it."""
    return (Adjoints((*items_dot, zeros_like(value))),
            Adjoints((*zeros_like(ans[:-1]), value_dot)))


# --- `+` and `*` where an operand is a tuple or list (srcad/sequences.py) -------------
# Concatenation splits the adjoint by the operands' lengths and repetition sums the
# copies; the helpers fall back to the elementwise rules when, at run time, the
# operation is NumPy's (a list plus an array).

views(seq_add, seq_mul)      # the elements of the result are the operands' own


# each forward rule is its reverse rule with the tangent helpers for the adjoint ones
@elementwise(seq_add, rename={"concat_adjoint_x": "concat_tangent_x", "concat_adjoint_y": "concat_tangent_y"})
def concatenate_(g, ans, x, y):
    return concat_adjoint_x(g, x, y), concat_adjoint_y(g, x, y)


@elementwise(seq_mul, rename={"repeat_adjoint": "repeat_tangent"}, tangent_name="repeat_tangent_")
def repeat_(g, ans, x, y):
    return repeat_adjoint(g, x, y), repeat_adjoint(g, y, x)


views(builtins.list, builtins.tuple)   # a new container of the same element objects


@adjoint(builtins.list, builtins.tuple)
def sequence(g, ans, iterable=()):
    return unlist(g, iterable)


@tangent(builtins.list, builtins.tuple)
def sequence_tangent(iterable_dot, ans, iterable=()):
    return Adjoints(iterable_dot)


@adjoint(np.array)
def array(g, ans, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0, like=None):
    return unarray(g, object)


@tangent(np.array)
def array_tangent(object_dot, ans, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0,
                  ndmax=0, like=None):
    return np.array(object_dot, dtype=float)


views(np.asarray)               # no copy when given an array


@adjoint(np.asarray)
def asarray(g, ans, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    return unarray(g, a)


@tangent(np.asarray)
def asarray_tangent(a_dot, ans, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    return np.asarray(a_dot, dtype=float)


@adjoint(builtins.sum)
def sum_(g, ans, iterable, start=0):
    return spread(g, iterable)


@tangent(builtins.sum)
def sum_tangent(iterable_dot, ans, iterable, start=0):
    return broadcast_like(builtins.sum(iterable_dot), ans)


# --- dicts: entries are read with getitem (operators.py); these are the methods -----------

views(dict.get)                 # the entry itself


@adjoint(dict.get)
def get(g, ans, d, key, default=None):
    return (scatter_add(g, d, key) if key in d else zeros_like(d)), None, \
        (zeros_like(default) if key in d else g)


@tangent(dict.get)
def get_tangent(d_dot, key_dot, default_dot, ans, d, key, default=None):
    return (d_dot[key] if key in d else zeros_like(ans)), None, \
        (zeros_like(ans) if key in d else default_dot)


@adjoint(dict.values)
def values(g, ans, d):
    return dict_values(g, d)


@tangent(dict.values)
def values_tangent(d_dot, ans, d):
    return values_of(d_dot, d)


nondifferentiable(dict.keys)


# --- objects: `p.W` on a local namedtuple, dataclass or object (srcad/objects.py) --------

views(attribute)                # the attribute's own value


@adjoint(attribute)
def attribute_(g, ans, obj, name):
    return attribute_adjoint(g, obj, name), None


@tangent(attribute)
def attribute_tangent_(obj_dot, name_dot, ans, obj, name):
    return attribute_tangent(obj_dot, obj, name), None


# --- dict(m): a copy of a dict or a dict of (key, value) pairs ----------------------------

views(builtins.dict)            # a new dict of the same value objects


@adjoint(builtins.dict)
def dict_(g, ans, iterable):
    return dict_adjoint(g, iterable)


@tangent(builtins.dict)
def dict_tangent_(iterable_dot, ans, iterable):
    return dict_tangent(iterable_dot, ans, iterable)
