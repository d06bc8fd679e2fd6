"""Reverse rules of Python's operators (``x + y`` is ``operator.add(x, y)``).

The NumPy ufunc that does the same thing shares the rule, so ``x * y`` and
``np.multiply(x, y)`` differentiate identically.  Every binary rule sends its
contributions through :func:`~srcad.runtime.unbroadcast`.
"""

import operator

import numpy as np

from srcad.rules.registry import adjoint, nondifferentiable
from srcad.runtime import (identity, matmul_adjoint_x, matmul_adjoint_y, scatter_add, setitem,
                           stop_gradient, unbroadcast, without)


@adjoint(operator.add, np.add)
def add(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@adjoint(operator.sub, np.subtract)
def subtract(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@adjoint(operator.mul, np.multiply)
def multiply(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@adjoint(operator.truediv, np.divide, np.true_divide)
def divide(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@adjoint(operator.pow, np.power)
def power(g, ans, x, y):
    return (unbroadcast(g * y * x ** np.where(y, y - 1, 1.0), x),
            unbroadcast(g * ans * np.log(np.where(x > 0, x, 1.0)), y))


@adjoint(operator.neg, np.negative)
def negative(g, ans, x):
    return -g


@adjoint(operator.pos, np.positive)
def positive(g, ans, x):
    return g


@adjoint(operator.matmul, np.matmul)
def matmul(g, ans, x, y):
    return matmul_adjoint_x(g, x, y), matmul_adjoint_y(g, x, y)


@adjoint(identity)
def copy(g, ans, x):
    return g


@adjoint(operator.getitem)
def getitem(g, ans, a, b):
    return scatter_add(g, a, b)


@adjoint(setitem)
def setitem_(g, ans, x, index, value):
    return without(g, index), None, unbroadcast(g[index], value)


@adjoint(operator.mod, np.mod, np.remainder)
def mod(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g * np.floor_divide(x, y), y)


nondifferentiable(
    stop_gradient,
    operator.floordiv, np.floor_divide,
    operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
    operator.not_, operator.truth, operator.is_, operator.is_not, operator.contains,
    operator.and_, operator.or_, operator.xor, operator.invert,
    operator.lshift, operator.rshift,
)

