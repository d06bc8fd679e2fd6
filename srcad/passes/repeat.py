"""Broadcasting for ``repeat_to``: the cotangent of a reduction is not spread
out where the arithmetic that reads it broadcasts it anyway.

The adjoint of ``s = np.sum(x, axis=1, keepdims=True)`` is
``repeat_to(ds, x, 1, True)``, a full array of ``x``'s shape.  Where it is an
operand of elementwise arithmetic whose other operand has at least ``x``'s
shape -- ``x`` itself, a value of ``x``'s shape class, or an elementwise
expression of such (broadcasting only grows shapes) -- the product broadcasts ``ds`` to the same values, so
``ds`` does (with ``keepdims=True`` or ``axis=None``, where ``ds`` already
broadcasts against ``x``; a spread bound to a name leaves a copy, which
:mod:`~srcad.passes.copies` then propagates)::

    >>> import numpy as np
    >>> from srcad.passes import demo, Context
    >>> names = {id(repeat_to): "repeat_to", id(np): "np"}
    >>> context = Context(name_of=lambda obj: names.get(id(obj)))
    >>> demo(lambda body: broadcast_repeats(body, context), '''
    ... dexp_z = repeat_to(dsum_z, exp_z, 1, True)
    ... dz = dz + dexp_z * exp_z
    ... dmul_y = repeat_to(dout / n, s, None, False) * np.exp(mul_y - s)''')
    dz = dz + dsum_z * exp_z
    dmul_y = dout / n * np.exp(mul_y - s)

A spread read elsewhere, or against an operand of unknown shape, stays::

    >>> demo(lambda body: broadcast_repeats(body, context), '''
    ... d = repeat_to(g, x, 1, True)
    ... e = d * y''')
    d = repeat_to(g, x, 1, True)
    e = d * y
"""

import gast

from srcad.passes import copies
from srcad.passes._blocks import counts
from srcad.trees import all_nodes
from srcad.runtime import repeat_to

#: NumPy functions that apply elementwise (their result has the broadcast shape of their arguments)
_ELEMENTWISE = {"exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sqrt",
                "abs", "absolute", "negative", "square", "logaddexp", "maximum", "minimum", "where",
                "sign", "reciprocal", "arctan", "arcsin", "arccos", "isnan", "power", "multiply",
                "add", "subtract", "divide"}
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)
_bound = set()            # the names the body binds (parameters are not: they never change)
_classes = {}             # the graph's shape classes (srcad.graph.infer_shape_classes), if given


def broadcast_repeats(body, context=None):
    """``body`` with the ``repeat_to`` calls that broadcasting makes unneeded removed (in place)."""
    if context is None or context.name_of(repeat_to) is None:
        return body
    name = context.name_of(repeat_to)
    np_name = context.name_of(__import__("numpy"))
    nodes = _walk(body)
    if not any(isinstance(n, gast.Name) and n.id == name for n in nodes):
        return body
    stores, loads = counts(body)
    defs = {}
    for node in nodes:
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name) and stores[node.targets[0].id] == 1:
            defs[node.targets[0].id] = node.value
    uses = _single_uses(nodes, loads, stores)
    _bound.clear()
    _bound.update(n for n, k in stores.items() if k)
    _classes.clear()
    _classes.update(getattr(context, "shape_class", None) or {})
    before = sum(1 for n in nodes if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
                 and n.func.id == name)
    for node in nodes:
        if isinstance(node, gast.BinOp) and isinstance(node.op, _ARITHMETIC):
            node.left = _spread(node.left, node.right, name, np_name, defs, uses)
            node.right = _spread(node.right, node.left, name, np_name, defs, uses)
        elif isinstance(node, gast.Compare) and len(node.ops) == 1:
            node.left = _spread(node.left, node.comparators[0], name, np_name, defs, uses)
            node.comparators[0] = _spread(node.comparators[0], node.left, name, np_name, defs, uses)
    after = sum(1 for n in all_nodes(body) if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
                and n.func.id == name)
    if after < before:                                 # t = repeat_to(...) became a copy t = g
        copies.propagate_copies(body)
    return body


def _spread(operand, other, name, np_name, defs, uses):
    """``operand`` without its ``repeat_to`` when ``other`` has the spread's shape."""
    call = operand
    if isinstance(operand, gast.Name) and operand.id in uses:
        call = defs.get(operand.id)                     # t = repeat_to(...); read once, here
    if not _is_repeat(call, name):
        return operand
    x = call.args[1]
    if not isinstance(x, gast.Name):
        return operand
    stable = defs if x.id in defs or x.id not in _bound else {}
    if operand is not call and not stable:
        return operand                              # x may be rebound between the two statements
    if not _grows_from(other, x.id, np_name, stable, 0):
        return operand
    if operand is call:
        return call.args[0]
    uses[operand.id].value = call.args[0]              # the definition assigns the cotangent
    return operand


def _is_repeat(call, name):
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and call.func.id == name
            and len(call.args) == 4 and not call.keywords):
        return False
    axis, keepdims = call.args[2], call.args[3]
    return (isinstance(keepdims, gast.Constant) and keepdims.value is True) or (
        isinstance(axis, gast.Constant) and axis.value is None)


def _grows_from(expr, x, np_name, defs, depth):
    """True when ``expr``'s shape is ``x``'s broadcast with others: ``x`` itself,
    or elementwise arithmetic, comparisons and NumPy ufuncs of such."""
    if depth > 8:
        return False
    if isinstance(expr, gast.Name):
        same = _classes.get(x)
        if expr.id == x or (same is not None and _classes.get(expr.id) == same):
            return True                             # x, or a value of x's shape class
        value = defs.get(expr.id)
        return value is not None and _grows_from(value, x, np_name, defs, depth + 1)
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, _ARITHMETIC):
        return any(_grows_from(e, x, np_name, defs, depth + 1) for e in (expr.left, expr.right))
    if isinstance(expr, gast.Compare) and len(expr.ops) == 1:
        return any(_grows_from(e, x, np_name, defs, depth + 1) for e in (expr.left, expr.comparators[0]))
    if isinstance(expr, gast.UnaryOp):
        return _grows_from(expr.operand, x, np_name, defs, depth + 1)
    if (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute)
            and isinstance(expr.func.value, gast.Name) and expr.func.value.id == np_name
            and expr.func.attr in _ELEMENTWISE and not expr.keywords):
        return any(_grows_from(a, x, np_name, defs, depth + 1) for a in expr.args)
    return False


def _single_uses(nodes, loads, stores):
    """name -> its defining statement, for names bound once and read once."""
    return {node.targets[0].id: node for node in nodes
            if isinstance(node, gast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], gast.Name) and loads[node.targets[0].id] == 1
            and stores[node.targets[0].id] == 1}


def _walk(stmts):
    return all_nodes(stmts)
