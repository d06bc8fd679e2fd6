"""Stage 2a, structure: single exit, and jumps only at the end of a branch.

Part of normalization, run on the user's tree before A-normal form.  After it,
a ``break``, ``continue`` or ``return`` is always the last statement of its
branch, so the reverse sweep can replay a branch by re-testing its condition
and never needs to know where an iteration stopped.  Before::

    for x in xs:
        if x > 0:
            return x
        s = s + x
    return s

After::

    returned = False
    for x in xs:
        if x > 0:
            out = x
            returned = True
            break
        else:
            s = s + x
    if not returned:
        out = s
    return out

The statements after an ``if`` that may jump move into the branch that does
not (copied when both branches continue).  A ``return`` inside a loop sets a
flag and breaks; ``for ... else`` runs its ``else`` under a ``broke`` flag.
"""

import copy

import gast

from srcad.builders import assign as _assign, const as _const, name as _name

JUMPS = (gast.Break, gast.Continue, gast.Return)


class Structurer:
    """Rewrites a function body so that every jump ends its branch."""

    def __init__(self, names):
        self.names = names
        self.out = None          # the single output variable, when returns are many
        self.returned = None     # the flag of returns from inside loops
        self.inits = []          # statements to put first in the body

    def run(self, fdef):
        returns = [n for n in _walk_own(fdef.body) if isinstance(n, gast.Return)]
        simple = len(returns) <= 1 and (not returns or fdef.body[-1] is returns[0])
        if not simple:
            self.out = self.names.fresh("out")
        body = self.block(fdef.body, loop=None)
        if not simple:
            body = _strip_returns(body)
            ret = gast.Return(value=_name(self.out))
            body.append(gast.copy_location(ret, returns[-1] if returns else fdef))
        fdef.body = self.inits + body
        return fdef

    # -- blocks --------------------------------------------------------------
    def block(self, stmts, loop):
        flat = []
        for stmt in stmts:
            flat.extend(self.statement(stmt, loop))
        return distribute(flat)

    def statement(self, stmt, loop):
        if isinstance(stmt, gast.Return):
            value = stmt.value if stmt.value is not None else _const(None)
            if loop is not None:
                if self.returned is None:
                    self.returned = self.names.fresh("returned")
                    self.inits.append(_assign(self.returned, _const(False), stmt))
                return [_assign(self.out, value, stmt), _assign(self.returned, _const(True), stmt),
                        gast.copy_location(gast.Break(), stmt)]
            if self.out is None:
                return [stmt]
            return [_assign(self.out, value, stmt), gast.copy_location(gast.Return(value=_name(self.out)), stmt)]
        if isinstance(stmt, gast.Break) and loop is not None and loop.get("broke"):
            return [_assign(loop["broke"], _const(True), stmt), stmt]
        if isinstance(stmt, gast.If):
            stmt.body = self.block(stmt.body, loop)
            stmt.orelse = self.block(stmt.orelse, loop)
            return [stmt]
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, loop)
        return [stmt]

    def loop(self, stmt, outer):
        context = {}
        before, after = [], []
        orelse = stmt.orelse
        stmt.orelse = []
        if orelse and _may_leave_loop(stmt.body):
            context["broke"] = self.names.fresh("broke")
            before.append(_assign(context["broke"], _const(False), stmt))
        stmt.body = self.block(stmt.body, context)
        if orelse:
            orelse = self.block(orelse, outer)
            if context.get("broke"):
                test = gast.UnaryOp(op=gast.Not(), operand=_name(context["broke"]))
                after.append(gast.copy_location(gast.If(test=test, body=orelse, orelse=[]), stmt))
            else:
                after.extend(orelse)
        if self.returned is not None and _contains_return_flag(stmt.body, self.returned):
            jump = gast.Break() if outer is not None else gast.Return(value=_name(self.out))
            check = gast.If(test=_name(self.returned), body=[gast.copy_location(jump, stmt)], orelse=[])
            after.insert(0, gast.copy_location(check, stmt))
        return before + [stmt] + after


def distribute(flat):
    """Move what follows a may-jump ``if`` into its paths that do not jump."""
    out = []
    for k, stmt in enumerate(flat):
        out.append(stmt)
        if isinstance(stmt, JUMPS):
            return out                        # what follows a jump never runs
        if isinstance(stmt, gast.If) and may_jump(stmt):
            rest = distribute(flat[k + 1:])
            if rest:
                stmt.body = attach(stmt.body, rest)
                stmt.orelse = attach(stmt.orelse, copy.deepcopy(rest))
            return out
    return out


def attach(stmts, rest):
    if stmts and isinstance(stmts[-1], JUMPS):
        return stmts
    if stmts and isinstance(stmts[-1], gast.If) and may_jump(stmts[-1]):
        last = stmts[-1]
        last.body = attach(last.body, rest)
        last.orelse = attach(last.orelse, copy.deepcopy(rest))
        return stmts
    return stmts + rest


def may_jump(stmt):
    """True when ``stmt`` can leave its block by break, continue or return."""
    if isinstance(stmt, JUMPS):
        return True
    if isinstance(stmt, gast.If):
        return any(may_jump(s) for s in stmt.body) or any(may_jump(s) for s in stmt.orelse)
    return False


def _walk_own(stmts):
    """Nodes of ``stmts``, not descending into nested function definitions."""
    todo = list(stmts)
    while todo:
        node = todo.pop()
        yield node
        for field in node._fields:             # gast.iter_child_nodes, inlined
            value = getattr(node, field, None)
            if type(value) is not list:
                if not isinstance(value, gast.AST):
                    continue
                value = (value,)
            for child in value:
                if isinstance(child, gast.AST) and not isinstance(child, _OWN_SCOPES):
                    todo.append(child)


_OWN_SCOPES = (gast.FunctionDef, gast.Lambda)


def _may_leave_loop(stmts):
    """True when ``stmts`` may leave the loop they are in: a ``break`` or a
    ``return`` of their own (in branches too), or a loop that returns.
    (ir._has_own_break asks the same of the graph's items, after this
    pass has turned returns in loops into breaks.)"""
    for stmt in stmts:
        if isinstance(stmt, gast.Break) or isinstance(stmt, gast.Return):
            return True
        if isinstance(stmt, gast.If) and (_may_leave_loop(stmt.body) or _may_leave_loop(stmt.orelse)):
            return True
        if isinstance(stmt, (gast.For, gast.While)) and _has_return(stmt.body):
            return True
    return False


def _has_return(stmts):
    return any(isinstance(n, gast.Return) for n in _walk_own(stmts))


def _contains_return_flag(stmts, flag):
    return any(isinstance(n, gast.Name) and n.id == flag and isinstance(n.ctx, gast.Store)
               for n in _walk_own(stmts))


def _strip_returns(stmts):
    """Drop the returns at the ends of branches; one ``return out`` follows."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Return):
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _strip_returns(stmt.body)
            stmt.orelse = _strip_returns(stmt.orelse)
            if not stmt.body and not stmt.orelse:
                continue
            if not stmt.body:
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = _strip_returns(stmt.body)
        out.append(stmt)
    return out


def structure(fdef, names):
    """Rewrite ``fdef`` in place (see the module docstring) and return it."""
    return Structurer(names).run(fdef)
