"""Duplicated fan-out terms: ``v = e; v = v + e`` -> ``v = e; v = v + v``;
and the two cotangents of a product of a value with itself in one helper.

``x * x`` uses ``x`` twice, so the multiply rule contributes ``g * x`` to
``dx`` once per use; computing the same pure expression twice is wasted work.
Where the second contribution follows the first directly and is the same
expression, it is the value already in ``v``::

    >>> from srcad.passes import demo
    >>> demo(merge_fan_out, '''
    ... da = dout * a
    ... da = da + dout * a
    ... dx = da * y''')
    da = dout * a
    da = da + da
    dx = da * y
"""

import gast

from srcad.passes._blocks import blocks, load, simple
from srcad.runtime import (dot_adjoint_a, dot_adjoint_b, dot_self_adjoint, matmul_adjoint_x, matmul_adjoint_y,
                           matmul_self_adjoint)
from srcad.trees import loaded


def merge_fan_out(body):
    """``body`` with repeated consecutive contributions read from the first (in place)."""
    for stmts in blocks(body):
        for first, second in zip(stmts, stmts[1:]):
            a, b = simple(first), simple(second)
            if a is None or b is None or a[0] != b[0] or a[0] in loaded(a[1]):
                continue
            value = b[1]
            if (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add)
                    and isinstance(value.left, gast.Name) and value.left.id == a[0]
                    and gast.dump(value.right) == gast.dump(a[1]) and not _calls_unknown(a[1])):
                value.right = load(a[0])
    return body


def _calls_unknown(expr):
    """Pure expressions only: rule terms are NumPy arithmetic; a call of
    anything else might not give the same value twice."""
    for node in gast.walk(expr):
        if isinstance(node, gast.Call):
            func = node.func
            while isinstance(func, gast.Attribute):
                func = func.value
            if not isinstance(func, gast.Name) or func.id not in _PURE_BASES:
                return True
    return False


#: names generated code calls pure functions through (rule helpers, NumPy)
_PURE_BASES = {"np", "numpy", "unbroadcast", "repeat_to", "matmul_adjoint_x", "matmul_adjoint_y",
               "like", "zeros_like", "broadcast_like"}


#: the two cotangent helpers of a product -> the helper computing both when
#: the operands are one value
SELF_PRODUCTS = ((dot_adjoint_a, dot_adjoint_b, dot_self_adjoint),
                 (matmul_adjoint_x, matmul_adjoint_y, matmul_self_adjoint))


def merge_self_products(body, context=None):
    """``np.dot(x, x)`` (an L2 penalty) contributes to ``dx`` through both of
    its operands' helpers; one helper makes the sum, for a vector one array
    instead of three (in place)::

        >>> from srcad.passes import demo, Context
        >>> demo(lambda body: merge_self_products(body, Context()), '''
        ... dw = dot_adjoint_a(dout, w, w)
        ... dw = dw + dot_adjoint_b(dout, w, w)''')
        dw = dot_self_adjoint(dout, w)
    """
    if context is None:
        return body
    pairs = {}
    for first, second, both in SELF_PRODUCTS:
        a, b = context.name_of(first), context.name_of(second)
        if a is not None and b is not None:
            pairs[a, b] = pairs[b, a] = both
    for stmts in blocks(body):
        for i in reversed(range(len(stmts) - 1)):
            found = _self_product(stmts[i], stmts[i + 1], pairs)
            if found is not None:
                call, both = found
                call.func = load(context.ref(both, both.__name__))
                call.args = call.args[:2]
                del stmts[i + 1]
    return body


def _self_product(first, second, pairs):
    """``(the first call, the helper for both)`` when ``first, second`` are
    ``v = f(g, x, x)`` (or ``v = v + f(g, x, x)``) and ``v = v + h(g, x, x)``
    with ``(f, h)`` one of ``pairs``."""
    a, b = simple(first), simple(second)
    if a is None or b is None or a[0] != b[0]:
        return None
    one, two = _added(a[0], a[1]) or a[1], _added(b[0], b[1])
    if two is None or not all(isinstance(c, gast.Call) and isinstance(c.func, gast.Name)
                              and len(c.args) == 3 and not c.keywords for c in (one, two)):
        return None
    if (one.func.id, two.func.id) not in pairs or a[0] in loaded(one):
        return None
    x = gast.dump(one.args[1])
    if not isinstance(one.args[1], gast.Name) or gast.dump(one.args[2]) != x \
            or gast.dump(two.args[1]) != x or gast.dump(two.args[2]) != x \
            or gast.dump(one.args[0]) != gast.dump(two.args[0]) or _calls_unknown(one.args[0]):
        return None
    return one, pairs[one.func.id, two.func.id]


def _added(var, value):
    """``term`` of ``var + term``, else None."""
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add) \
            and isinstance(value.left, gast.Name) and value.left.id == var:
        return value.right
    return None
