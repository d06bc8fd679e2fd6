"""Negations into subtractions: ``t = -e`` read in a sum becomes ``x - e``.

The adjoint of ``x - y`` with respect to ``y`` is the negated cotangent; the
accumulation that reads it subtracts instead, and the negation goes where
nothing else reads it.  A product whose first factor is the negated value
(``t * c``) is subtracted the same way.  Only a negated *name* is folded (the
name is read where ``t`` was, so nothing is computed twice)::

    >>> from srcad.passes import demo
    >>> demo(fold_negations, '''
    ... dlog = -dlogp
    ... dz = dz + dlog * w
    ... dx = -dz
    ... dy = dy + dx''')
    dz = dz - dlogp * w
    dy = dy - dz

and in an expression, ``a + -b`` is ``a - b``::

    >>> demo(fold_negations, "dx = dx + -g * y")
    dx = dx - g * y
"""

import gast

from srcad.passes._blocks import Block, blocks, load, simple_assignments
from srcad.trees import all_nodes


def fold_negations(body):
    """``body`` with negated names folded into the sums that read them (in place)."""
    if not any(type(n) is gast.UnaryOp and type(n.op) is gast.USub for n in all_nodes(body)):
        return body
    top = Block(body)
    stores, loads = top.counts()
    for stmts, block, i, t, value, dropped in simple_assignments(body, top):
        if not _negated_name(value) or stores[t] != 1:
            continue
        e = value.operand.id
        if t == e or block.last_use(i, t, {e}, loads) is None:
            continue
        uses = sorted(block.reads[t])
        if not all(_only_in_sums(stmts[j], t) for j in uses):
            continue
        moved = block.rename(uses, t, lambda: gast.UnaryOp(op=gast.USub(), operand=load(e)), loads)
        for j in uses:
            stmts[j] = _Subtract().visit(stmts[j])
        block.reads[e].update(moved)
        loads[e] += sum(moved.values()) - 1
        stores[t] = 0
        dropped.add(i)
    for stmts in blocks(body):                 # a statement is in one block: any order will do
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, (gast.Assign, gast.Return, gast.Expr)) and any(
                    type(n) is gast.UnaryOp and type(n.op) is gast.USub for n in all_nodes([stmt])):
                stmts[i] = _Subtract().visit(stmt)
    return body


def _negated_name(expr):
    return isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub) \
        and isinstance(expr.operand, gast.Name)


def _only_in_sums(stmt, var):
    """True when every read of ``var`` in ``stmt`` is (the first factor of) a
    term added to something: ``x + var``, ``var * c + x``."""
    if not isinstance(stmt, (gast.Assign, gast.Return, gast.Expr)):
        return False
    total = sum(1 for n in gast.walk(stmt) if isinstance(n, gast.Name) and n.id == var
                and type(n.ctx) is gast.Load)
    found = 0
    for node in gast.walk(stmt):
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Add):
            for side in (node.left, node.right):
                lead = _leading(side)
                if isinstance(lead, gast.Name) and lead.id == var:
                    found += 1
    return found == total


def _leading(expr):
    """The first factor of a product or quotient (the expression itself otherwise)."""
    while isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div, gast.MatMult)):
        expr = expr.left
    return expr


def without_minus(expr):
    """``a * b`` for ``-a * b`` (a product or quotient whose first factor is negated), else None."""
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        return expr.operand
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, (gast.Mult, gast.Div, gast.MatMult)):
        left = without_minus(expr.left)
        if left is not None:
            return gast.BinOp(left=left, op=expr.op, right=expr.right)
    return None


class _Subtract(gast.NodeTransformer):
    """``x + -e`` -> ``x - e`` and ``-e + x`` -> ``x - e``."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, gast.Add):
            return node
        right = without_minus(node.right)
        if right is not None:
            return gast.BinOp(left=node.left, op=gast.Sub(), right=right)
        left = without_minus(node.left)
        if left is not None:
            return gast.BinOp(left=node.right, op=gast.Sub(), right=left)
        return node
