"""Reverse and forward rules of Python's operators (``x + y`` is ``operator.add(x, y)``).

The NumPy ufunc that does the same thing shares the rules, so ``x * y`` and
``np.multiply(x, y)`` differentiate identically.  Every binary reverse rule
sends its contributions through :func:`~srcad.runtime.unbroadcast`; a forward
contribution that may be smaller than the result goes through
:func:`~srcad.runtime.broadcast_like`.  Each forward rule follows its reverse
twin, or is derived from it (:mod:`srcad.rules.families`).
"""

import operator

import numpy as np

from srcad.rules.families import elementwise, unary
from srcad.rules.registry import adjoint, nondifferentiable, tangent, views
from srcad.runtime import (broadcast_like, identity, matmul_adjoint_x, matmul_adjoint_y, scatter_add,
                           setitem, stop_gradient, unbroadcast, without, zeros_like)


@adjoint(operator.add, np.add)
def add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@tangent(operator.add, np.add)
def add_tangent(x_dot, y_dot, ans, x, y):
    return broadcast_like(x_dot, ans), broadcast_like(y_dot, ans)


@adjoint(operator.sub, np.subtract)
def subtract(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@tangent(operator.sub, np.subtract)
def subtract_tangent(x_dot, y_dot, ans, x, y):
    return broadcast_like(x_dot, ans), broadcast_like(-y_dot, ans)


@adjoint(operator.mul, np.multiply)
def multiply(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@tangent(operator.mul, np.multiply)
def multiply_tangent(x_dot, y_dot, ans, x, y):
    return x_dot * y, x * y_dot


@elementwise(operator.truediv, np.divide, np.true_divide)
def divide(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@elementwise(operator.pow, np.power)
def power(g, ans, x, y):
    return (unbroadcast(g * y * x ** np.where(y, y - 1, 1.0), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1.0)), y))


@adjoint(operator.matmul, np.matmul)
def matmul(g, ans, x, y):
    return matmul_adjoint_x(g, x, y), matmul_adjoint_y(g, x, y)


@tangent(operator.matmul, np.matmul)
def matmul_tangent(x_dot, y_dot, ans, x, y):
    return x_dot @ y, x @ y_dot


views(identity)                 # `b = a` binds the same object

unary(globals(), [
    ("negative",  (operator.neg, np.negative),  "-g"),
    ("positive",  (operator.pos, np.positive),  "g"),
    ("copy",      identity,                     "g"),
])


views(operator.getitem)


@adjoint(operator.getitem)
def getitem(g, ans, a, b):
    return scatter_add(g, a, b)


@tangent(operator.getitem)
def getitem_tangent(a_dot, ans, a, b):
    return a_dot[b]


@adjoint(setitem)
def setitem_(g, ans, x, index, value):
    return without(g, index), None, unbroadcast(g[index], value)


@tangent(setitem)
def setitem_tangent(x_dot, index_dot, value_dot, ans, x, index, value):
    """ans is x after the update: its old tangent outside index, value's inside."""
    return without(x_dot, index, ans), None, setitem(zeros_like(ans), index, value_dot)


@adjoint(operator.mod, np.mod, np.remainder)
def mod(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g * np.floor_divide(x, y), y)


@tangent(operator.mod, np.mod, np.remainder)
def mod_tangent(x_dot, y_dot, ans, x, y):
    return broadcast_like(x_dot, ans), -y_dot * np.floor_divide(x, y)


views(stop_gradient)            # x itself, as a constant


nondifferentiable(
    stop_gradient,
    operator.floordiv, np.floor_divide,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
    operator.and_, operator.or_, operator.xor, operator.invert,
    operator.lshift, operator.rshift,
)
