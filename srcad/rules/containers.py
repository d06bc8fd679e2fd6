"""Reverse rules of lists and tuples: building, appending, stacking, summing.

The adjoint of a list is an :class:`~srcad.runtime.Adjoints`, one adjoint per
element, whose ``+`` adds elementwise.
"""

import builtins

import numpy as np

from srcad.rules.registry import adjoint
from srcad.runtime import Adjoints, list_append, spread, unarray


@adjoint(list_append)
def append(g, ans, items, value):
    return Adjoints(g[:-1]), g[-1]


@adjoint(np.array)
def array(g, ans, object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, ndmax=0, like=None):
    return unarray(g, object)


@adjoint(np.asarray)
def asarray(g, ans, a, dtype=None, order=None, *, device=None, copy=None, like=None):
    return unarray(g, a)


@adjoint(builtins.sum)
def sum_(g, ans, iterable, start=0):
    return spread(g, iterable)
