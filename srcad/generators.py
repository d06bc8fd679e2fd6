"""Generators called from a differentiated function: ``sum(terms(x))``,
``list(layers(x))``, ``for h in states(x)``.

A generator function that the differentiated code calls is rewritten, before
normalization, into a function that returns the list of what it yields (its
values are consumed whole by a sum, a list or a loop, so the order of
evaluation is the same).  Before::

    def terms(x, n):
        for k in range(n):
            yield x ** k / k_factorial(k)

After::

    def terms(x, n):
        yielded = []
        for k in range(n):
            yielded.append(x ** k / k_factorial(k))
        return yielded

``yield from g`` becomes a loop that appends; a bare ``return`` returns a
copy of the list (``list(yielded)``: the loop it leaves could append again).  A generator that returns a value, or reads what ``yield`` evaluates to
(``send``), is refused, as is differentiating a generator itself.
"""

import gast

from srcad.errors import UnsupportedSyntaxError


def is_generator(fdef):
    """True when the body of ``fdef`` (not a nested function's) yields."""
    return any(isinstance(n, (gast.Yield, gast.YieldFrom)) for n in _own_nodes(fdef))


def materialize(parsed, names):
    """Rewrite the generator function ``parsed.node`` in place to return a
    list of its values; ``names`` allocates the list's name."""
    fdef = parsed.node
    out = names.fresh("yielded")
    for node in _own_nodes(fdef):
        if isinstance(node, (gast.Yield, gast.YieldFrom)) and not _is_statement_yield(fdef, node):
            raise parsed.source.error(
                UnsupportedSyntaxError, "srcad cannot differentiate a generator that uses the "
                "value of a yield expression", node, hint="yield values as statements: yield v")
        if isinstance(node, gast.Return) and node.value is not None:
            raise parsed.source.error(
                UnsupportedSyntaxError, "srcad cannot differentiate a generator that returns a value",
                node, hint="yield the value instead")
    first, last = fdef.body[0], fdef.body[-1]
    fdef.body = [_assign(out, gast.List(elts=[], ctx=gast.Load()), first)] + _rewrite(fdef.body, out) \
        + [_located(gast.Return(value=_load(out)), last)]


def _rewrite(stmts, out):
    new = []
    for stmt in stmts:
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Yield):
            value = stmt.value.value or gast.Constant(value=None, kind=None)
            new.append(gast.copy_location(gast.Expr(value=_append(out, value)), stmt))
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.YieldFrom):
            item = out + "_item"
            loop = gast.For(target=gast.Name(id=item, ctx=gast.Store(), annotation=None, type_comment=None),
                            iter=stmt.value.value, body=[gast.Expr(value=_append(out, _load(item)))],
                            orelse=[], type_comment=None)
            new.append(_located(loop, stmt))
        elif isinstance(stmt, gast.Return):      # a copy: the loop it leaves may append again
            copy = gast.Call(func=gast.Name(id="list", ctx=gast.Load(), annotation=None, type_comment=None),
                             args=[_load(out)], keywords=[])
            new.append(_located(gast.Return(value=copy), stmt))
        elif isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            new.append(stmt)
        else:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, _rewrite(getattr(stmt, field), out))
            new.append(stmt)
    return new


def _own_nodes(fdef):
    """The nodes of ``fdef``'s body, not descending into nested functions and lambdas."""
    todo = list(fdef.body)
    while todo:
        node = todo.pop()
        yield node
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)):
                todo.append(child)


def _is_statement_yield(fdef, node):
    return any(isinstance(s, gast.Expr) and s.value is node for s in _own_nodes(fdef))


def _append(out, value):
    func = gast.Attribute(value=_load(out), attr="append", ctx=gast.Load())
    return gast.copy_location(gast.Call(func=func, args=[value], keywords=[]), value)


def _load(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def _assign(name, value, origin):
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    return _located(gast.Assign(targets=[target], value=value, type_comment=None), origin)


def _located(stmt, origin):
    for node in gast.walk(stmt):
        gast.copy_location(node, origin)
        node.end_lineno = getattr(origin, "lineno", None)
    return stmt
