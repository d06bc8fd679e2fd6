"""Shared-weight accumulation: per-iteration outer products become one matmul.

In a reversed loop the adjoint of a weight the loop does not assign grows by
one outer product per iteration (``dWh = dWh + matmul_adjoint_x(g, Wh, h)``).
A hand-written BPTT keeps the rows and contracts them once after the loop; so
does this pass: the loop pushes the two factors, and one call after the loop
sums them (:func:`srcad.runtime.matmul_adjoint_x_rows`: one ``G.T @ H`` when
every row is a vector of one shape, the sum of the terms otherwise).  Pushes
happen only in the iterations (and branches) where the term was added, so
``break``, ``continue``, ``while`` and branches need nothing special::

    >>> from srcad.passes import demo, Context
    >>> def hoist(body):
    ...     for stmt in body:
    ...         if isinstance(stmt, gast.For):
    ...             stmt.srcad_reverse = True
    ...     return hoist_accumulations(body, Context())
    >>> demo(hoist, '''
    ... dW = zeros_like(W)
    ... for i in reversed(range(n)):
    ...     g = dh * (1.0 - h * h)
    ...     h = h_stack.pop()
    ...     dW = dW + matmul_adjoint_x(g, W, h)
    ...     dh = matmul_adjoint_y(g, W, h)
    ... return dW''')
    g_rows = Stack()
    h_rows = Stack()
    for i in reversed(range(n)):
        g = dh * (1.0 - h * h)
        h = h_stack.pop()
        g_rows.push(g)
        h_rows.push(h)
        dh = matmul_adjoint_y(g, W, h)
    dW = matmul_adjoint_x_rows(g_rows, W, h_rows)
    return dW

The stacks are loop stacks, so differentiating the result again (``hessian``:
forward over reverse) pushes twin stacks of tangents alongside.  Conditions:
the weight is bound nowhere in the function, the adjoint is neither read nor
bound elsewhere in the loop, and nothing in the function writes into an array
in place (a stored row must not change later).
"""

import gast

from srcad.passes._blocks import assigned_call, blocks, counts, load, writes_in_place
from srcad.runtime import Stack, matmul_adjoint_x, matmul_adjoint_x_rows, matmul_adjoint_y, \
    matmul_adjoint_y_rows, zeros_like
from srcad.trees import all_nodes, loaded, stored

#: helper -> (its rows form, position of the weight among its arguments)
_ROWS = {matmul_adjoint_x: (matmul_adjoint_x_rows, 1), matmul_adjoint_y: (matmul_adjoint_y_rows, 2)}


def hoist_accumulations(body, context=None):
    """``body`` with the weight accumulations of its reversed loops hoisted (in place)."""
    if context is None:
        return body
    helpers = {context.name_of(h): h for h in _ROWS}
    helpers.pop(None, None)
    if not helpers or writes_in_place(body):       # no matmul adjoints: nothing to hoist
        return body
    stores, _ = counts(body)
    for stmts in blocks(body):
        i = 0
        while i < len(stmts):
            loop = stmts[i]
            if isinstance(loop, gast.For) and getattr(loop, "srcad_reverse", False):
                before, after = _hoist(loop, helpers, stores, context)
                i -= _drop_zero_starts(stmts, i, after, context.name_of(zeros_like))
                after = [stmt for stmt, _ in after]
                stmts[i:i + 1] = before + [loop] + after
                i += len(before) + len(after)
            i += 1
    return body


def _hoist(loop, helpers, stores, context):
    """(statements before the loop, statements after it), rewriting ``loop``."""
    before, after = [], []
    found = {}                                       # target -> its accumulations in the loop
    for block in _branch_blocks(loop.body):
        for stmt in block:
            match = _accumulation(stmt, helpers, stores)
            if match is not None:
                found.setdefault(match[0], []).append(stmt)
    hoisted = {id(stmt) for stmts in found.values() if not _touched_elsewhere(loop.body, stmts, stmts[0].targets[0].id)
               for stmt in stmts}
    for block in _branch_blocks(loop.body):
        for j in range(len(block) - 1, -1, -1):
            stmt = block[j]
            if id(stmt) not in hoisted:
                continue
            target, helper, args = _accumulation(stmt, helpers, stores)
            rows, position = _ROWS[helper]
            weight = args[position]
            others = [a for k, a in enumerate(args) if k != position]
            names = [context.fresh(f"{_base(a, k)}_rows") for k, a in enumerate(others)]
            before += [_assign(n, gast.Call(func=load(context.ref(Stack, "Stack")), args=[], keywords=[]))
                       for n in names]
            block[j:j + 1] = [gast.Expr(value=gast.Call(
                func=gast.Attribute(value=load(n), attr="push", ctx=gast.Load()), args=[a], keywords=[]))
                for n, a in zip(names, others)]
            call = gast.Call(func=load(context.ref(rows, rows.__name__)), args=[
                load(names[0]), weight, load(names[1])] if position == 1 else [
                load(names[0]), load(names[1]), weight], keywords=[])
            after.append((_assign(target, gast.BinOp(left=load(target), op=gast.Add(), right=call)),
                          weight))
    return before, after


def _accumulation(stmt, helpers, stores):
    """``(dW, helper, args)`` for ``dW = dW + helper(g, x, y)`` with a weight bound nowhere."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)):
        return None
    value, target = stmt.value, stmt.targets[0].id
    if not (isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add)
            and isinstance(value.left, gast.Name) and value.left.id == target
            and isinstance(value.right, gast.Call) and isinstance(value.right.func, gast.Name)
            and value.right.func.id in helpers and len(value.right.args) == 3
            and not value.right.keywords):
        return None
    helper = helpers[value.right.func.id]
    args = value.right.args
    weight = args[_ROWS[helper][1]]
    if not isinstance(weight, gast.Name) or stores[weight.id] or target in loaded(value.right):
        return None
    return target, helper, args


def _touched_elsewhere(body, stmts, target):
    """True when a statement of the loop other than ``stmts`` reads or binds ``target``."""
    for other in all_nodes(body):
        if any(other is stmt for stmt in stmts):
            continue
        if isinstance(other, gast.stmt) and not isinstance(other, (gast.If, gast.For, gast.While)) \
                and target in (loaded(other) | stored(other)):
            return True
        if isinstance(other, (gast.If, gast.While)) and target in loaded(other.test):
            return True
        if isinstance(other, gast.For) and target in (loaded(other.iter) | stored(other.target)):
            return True
    return False


def _branch_blocks(body):
    """The loop's body and the blocks of its branches (not of nested loops)."""
    out = [body]
    for stmt in body:
        if isinstance(stmt, gast.If):
            out += _branch_blocks(stmt.body) + _branch_blocks(stmt.orelse)
    return out


def _drop_zero_starts(stmts, i, after, zeros_name):
    """``dW = zeros_like(W)`` before the loop ``stmts[i]``, read by nothing until
    the sum after it: the sum is the start (``dW = matmul_adjoint_x_rows(...)``).
    Returns how many statements before the loop went."""
    dropped = 0
    for stmt, weight in after:
        target = stmt.targets[0].id
        for k in range(i - dropped - 1, -1, -1):
            prev = stmts[k]
            if not isinstance(prev, gast.AST):
                continue
            value = assigned_call(prev, target, zeros_name)
            if (value is not None and len(value.args) == 1 and not value.keywords
                    and isinstance(value.args[0], gast.Name) and value.args[0].id == weight.id):
                del stmts[k]
                dropped += 1
                stmt.value = stmt.value.right
                break
            if target in loaded(prev) | stored(prev):
                break
    return dropped


def _base(atom, k):
    return atom.id if isinstance(atom, gast.Name) else ("g" if k == 0 else "y")


def _assign(target, value):
    return gast.Assign(targets=[gast.Name(id=target, ctx=gast.Store(), annotation=None, type_comment=None)],
                       value=value, type_comment=None)

