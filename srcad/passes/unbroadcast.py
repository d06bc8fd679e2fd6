"""Broadcast elision: ``unbroadcast``/``broadcast_like`` where shapes provably agree.

A rule cannot know the shapes it is inlined at, so the reverse rule of ``x *
y`` reads ``unbroadcast(g * y, x)`` (sum ``g * y`` down to ``x``'s shape) and
the forward rule of ``x + y`` reads ``broadcast_like(x_dot, ans)``.  Where the
graph's shape classes (:func:`srcad.graph.infer_shape_classes`) prove the
operand has the result's shape, the call is the identity and goes::

    >>> import gast
    >>> from types import SimpleNamespace as N
    >>> term = gast.parse("unbroadcast(g * y, x)").body[0].value
    >>> gast.unparse(drop_unbroadcast(term, N(target="p"), {"p": "x", "x": "x"}, "unbroadcast"))
    'g * y'
    >>> gast.unparse(drop_unbroadcast(term, N(target="p"), {"p": "y", "x": "x"}, "unbroadcast"))
    'unbroadcast(g * y, x)'
"""

import gast

from srcad.graph import SCALAR, _elementwise


def drop_unbroadcast(expr, node, shape_class, unbroadcast_name):
    """``unbroadcast(e, x)`` -> ``e`` where ``x`` provably has the result's shape."""
    result_class = shape_class.get(node.target)
    if result_class is None:
        return expr
    return _drop(expr, unbroadcast_name, shape_class, result_class)


def _drop(expr, name, shape_class, result_class):
    """``expr`` with each ``name(e, x)`` whose ``x`` is of ``result_class``
    replaced by ``e``, innermost first (one recursive walk: this runs once per
    rule term, so it builds no transformer)."""
    kind = type(expr)
    if kind is gast.Name or kind is gast.Constant:
        return expr                 # (most of a term's nodes: nothing to look at)
    if kind is gast.Call:
        expr.args = [_drop(a, name, shape_class, result_class) for a in expr.args]
        for kw in expr.keywords:
            kw.value = _drop(kw.value, name, shape_class, result_class)
        if (isinstance(expr.func, gast.Name) and expr.func.id == name and len(expr.args) == 2
                and class_of(expr.args[1], shape_class) == result_class):
            return expr.args[0]
        expr.func = _drop(expr.func, name, shape_class, result_class)
        return expr
    if isinstance(expr, gast.AST):
        for field, value in gast.iter_fields(expr):
            if isinstance(value, gast.AST):
                setattr(expr, field, _drop(value, name, shape_class, result_class))
            elif isinstance(value, list):
                setattr(expr, field, [_drop(v, name, shape_class, result_class)
                                      if isinstance(v, gast.AST) else v for v in value])
    return expr


def drop_broadcasts(node, outs, atoms, shape_class, bname):
    """Forward mode: ``broadcast_like(t, ans)`` -> ``t`` where the sum of the
    terms has the result's shape anyway: the argument is provably shaped like
    the result, or (elementwise primitives) every other operand is a scalar or
    shaped like a contributing one.  ``outs`` and ``atoms``: the terms and the
    arguments they belong to, by rule index; the terms, in order."""
    if bname is None:
        return list(outs.values())
    result = shape_class.get(node.target)
    contributing = {class_of(a, shape_class) for a in atoms.values()}
    others = [a for a in node.args if not any(a is b for b in atoms.values())]
    full = (_elementwise(node.primitive) and not node.kwargs
            and all(class_of(a, shape_class) in (contributing | {SCALAR}) - {None}
                    for a in others))
    terms = []
    for i, expr in outs.items():
        own = class_of(atoms[i], shape_class)
        if full or (result is not None and own == result):
            expr = _unwrap(expr, bname)
        terms.append(expr)
    return terms


def _unwrap(expr, bname):
    if (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.func.id == bname
            and len(expr.args) == 2):
        return expr.args[0]
    return expr


def class_of(atom, shape_class):
    """The shape class of an argument: a name's class, ``SCALAR`` for a number."""
    if isinstance(atom, gast.Name):
        return shape_class.get(atom.id)
    if isinstance(atom, gast.Constant) and type(atom.value) in (int, float):
        return SCALAR
    return None
