"""Dead code: drop every assignment whose value nothing reads.

Forward values the reverse sweep does not need (the output itself, in
``vjp``) and rule temporaries of inactive branches go; statements marked
``srcad_effect`` or ``srcad_may_raise`` (:mod:`srcad.passes.may_raise`) stay,
and so do calls (effects) and comments.  A ``for`` loop left with an empty
body goes as well where its header cannot raise (a reverse sweep's loop,
whose forward loop already ran; a range of integer constants or trip counters)::

    >>> from srcad.passes import demo
    >>> demo(eliminate_dead_code, '''
    ... p = x + y
    ... g = p * z
    ... dp = dg * z
    ... for i in range(3):
    ...     t = dp * 2.0
    ... return dp''')
    dp = dg * z
    return dp
"""

import gast

from srcad.trees import loaded, stored


def eliminate_dead_code(body, live_out=()):
    """Backward liveness over a statement list; keeps effects and comments."""
    counters = _Lazy(lambda: _int_counters(body))
    kept, _ = _dce(body, set(live_out), counters)
    return _drop_empty_comments(kept)


def live_in(body):
    """The names ``body`` may read before binding them: what a function made
    of ``body`` must be given.  (Drops dead statements inside its compound
    statements on the way, as :func:`eliminate_dead_code` would.)"""
    return _dce(body, set(), set())[1]


def _dce(stmts, live, counters):
    """(kept statements, names live before them) given ``live`` after them."""
    live = set(live)
    kept = []
    for stmt in reversed(stmts):
        if not isinstance(stmt, gast.AST):
            kept.append(stmt)                         # a comment
            continue
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], gast.Name):
            target = stmt.targets[0].id
            if target not in live and not getattr(stmt, "srcad_effect", False) \
                    and not getattr(stmt, "srcad_may_raise", False):
                continue
            live.discard(target)
            live |= loaded(stmt.value)
        elif isinstance(stmt, gast.If):
            stmt.body, live_body = _dce(stmt.body, live, counters)
            stmt.orelse, live_else = _dce(stmt.orelse, live, counters)
            if _empty(stmt.body) and _empty(stmt.orelse) and isinstance(stmt.test, gast.Name):
                continue                              # if c: pass, for a flag computed before
            live = live_body | live_else | loaded(stmt.test)
        elif isinstance(stmt, (gast.For, gast.While)):
            around = live | loaded(stmt)              # a later iteration may read anything
            stmt.body, live_body = _dce(stmt.body, around, counters)
            if isinstance(stmt, gast.For) and _droppable(stmt, live, counters):
                continue                              # for ...: pass, over a range that cannot raise
            if isinstance(stmt, gast.For):            # but the header binds the target first
                live |= loaded(stmt.iter) | ((around | live_body) - stored(stmt.target))
            else:
                live = around | live_body
        else:
            live |= loaded(stmt)
        kept.append(stmt)
    kept.reverse()
    return kept, live


def _empty(stmts):
    """No statement in ``stmts`` (comments only, or nothing)."""
    return not any(isinstance(s, gast.AST) and not isinstance(s, gast.Pass) for s in stmts)


class _Lazy:
    """A set computed the first time it is asked about (most bodies have no empty loop)."""

    def __init__(self, make):
        self.make, self.value = make, None

    def __contains__(self, item):
        if self.value is None:
            self.value = self.make()
        return item in self.value


def _droppable(loop, live, counters):
    """An empty ``for`` whose header cannot raise and binds nothing read later."""
    if any(isinstance(s, gast.AST) for s in loop.body) or loop.orelse or stored(loop.target) & live:
        return False
    if getattr(loop, "srcad_reverse", False):
        return True                                   # the reverse of a loop that already ran
    it = loop.iter
    return _is_call(it, "range") and all(
        (isinstance(a, gast.Constant) and type(a.value) is int)
        or (isinstance(a, gast.Name) and a.id in counters) for a in it.args)


def _is_call(expr, fname):
    return (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name)
            and expr.func.id == fname and not expr.keywords)


def _int_counters(body):
    """Names only ever assigned an int constant or themselves plus one (trip counters)."""
    good, bad = set(), set()
    for node in gast.walk(gast.Module(body=[s for s in body if isinstance(s, gast.AST)],
                                      type_ignores=[])):
        if isinstance(node, gast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], gast.Name):
            target, value = node.targets[0].id, node.value
            if (isinstance(value, gast.Constant) and type(value.value) is int) or (
                    isinstance(value, gast.BinOp) and isinstance(value.op, gast.Add)
                    and isinstance(value.left, gast.Name) and value.left.id == target
                    and isinstance(value.right, gast.Constant) and type(value.right.value) is int):
                good.add(target)
                continue
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.For, gast.AnnAssign, gast.NamedExpr)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            for t in targets:
                bad |= stored(t)
        elif isinstance(node, gast.arguments):
            bad |= {a.id for a in node.args + node.kwonlyargs if isinstance(a, gast.Name)}
    return good - bad


def _drop_empty_comments(body):
    """A comment followed by another comment (or nothing) introduced nothing."""
    out = []
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            stmt.body = _drop_empty_comments(stmt.body)
            stmt.orelse = _drop_empty_comments(stmt.orelse)
    for i, stmt in enumerate(body):
        if not isinstance(stmt, gast.AST) and not stmt.header:
            nxt = body[i + 1] if i + 1 < len(body) else None
            if nxt is None or not isinstance(nxt, gast.AST) or isinstance(nxt, gast.Return):
                continue
        out.append(stmt)
    return out
