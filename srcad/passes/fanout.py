"""Duplicated fan-out terms: ``v = e; v = v + e`` -> ``v = e; v = v + v``.

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
