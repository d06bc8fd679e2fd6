"""Constant folding: the constant arithmetic rules leave when an argument is a number.

The power rule written for any exponent ``n`` reads ``g * n * x ** np.where(n,
n - 1, 1.0)``; inlined with ``n = 2`` that is all constant except ``x``::

    >>> from srcad.passes import demo
    >>> demo(fold_body, "dx = dpow_x * 2 * x ** np.where(2, 2 - 1, 1.0)")
    dx = dpow_x * 2 * x

Only ``+ - *`` of two numbers, ``np.where`` of three numbers and ``e ** 1``
are folded.  A whole right-hand side ``e ** 1`` is kept (``y = x ** 1`` is a
new array; ``y = x`` would alias ``x``)::

    >>> demo(fold_body, "y = x ** 1\\nz = np.where(1, 2.0, np.zeros(3))")
    y = x ** 1
    z = np.where(1, 2.0, np.zeros(3))
"""

import gast

from srcad.trees import all_nodes


def _number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float, bool)


class Fold(gast.NodeTransformer):
    """Folds the constant parts of one expression (see the module docstring)."""

    OPS = {gast.Add: lambda a, b: a + b, gast.Sub: lambda a, b: a - b,
           gast.Mult: lambda a, b: a * b}

    def visit_BinOp(self, node):
        self.generic_visit(node)
        op = self.OPS.get(type(node.op))
        if op is not None and _number(node.left) and _number(node.right):
            return gast.Constant(value=op(node.left.value, node.right.value), kind=None)
        if isinstance(node.op, gast.Pow) and _number(node.right) and node.right.value == 1:
            return node.left
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if (isinstance(func, gast.Attribute) and func.attr == "where" and len(node.args) == 3
                and not node.keywords and all(_number(a) for a in node.args)):
            return node.args[1] if node.args[0].value else node.args[2]
        return node


def fold_term(expr):
    """One inlined rule term, folded (a term is part of a sum: ``e ** 1`` may go)."""
    return Fold().visit(expr) if _foldable(expr) else expr     # most terms hold nothing to fold


def fold_body(body):
    """Every statement of ``body`` (nested ones too), folded."""
    for stmt in body:
        if not isinstance(stmt, gast.AST):
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                fold_body(getattr(stmt, field))
        value = getattr(stmt, "value", None)
        if isinstance(stmt, (gast.Assign, gast.Return, gast.Expr)) and value is not None \
                and _foldable(value):
            stmt.value = _fold_value(value)
    return body


def _foldable(value):
    """Whether ``value`` holds anything :class:`Fold` rewrites (most statements do not)."""
    for node in all_nodes([value]):
        if type(node) is gast.BinOp and (type(node.op) is gast.Pow or (
                _number(node.left) and _number(node.right))):
            return True
        if type(node) is gast.Attribute and node.attr == "where":
            return True
    return False


def _fold_value(value):
    if isinstance(value, gast.BinOp) and isinstance(value.op, gast.Pow):
        value.left, value.right = Fold().visit(value.left), Fold().visit(value.right)
        return value                                   # the top level is not an alias
    folded = Fold().visit(value)
    return folded
