"""Control flow in the reverse sweep: item lists in order and reversed,
branches replayed on their saved test, loops run backwards over their trip
count (with the fixpoint of the adjoints a loop carries)."""

import copy

import gast

from srcad.ir import Kind, Visitor
from srcad.graph import readonly_effect, statement_of
from srcad.builders import assign, call, name, store
from srcad.runtime import list_append, readonly, setitem
from srcad.reverse.support import APPEND, Comment, Restore, Save, _copy, guard_statements


class ControlFlow(Visitor):
    """The :class:`~srcad.reverse.core.ReverseGenerator`'s control flow: item lists, branches, loops."""

    # -- the forward sweep -------------------------------------------------------
    def forward_items(self, items, in_loop=False):
        """The normalized body, with a save point before every redefinition
        and a trip counter in loops whose iterations cannot be recounted."""
        out = []
        for item in items:
            out.extend(self.visit("forward", item, in_loop))
        return out

    def forward_node(self, node, in_loop):
        out = guard_statements(node, self.ref)
        if node.target is not None and node not in self.initial:
            out.append(Save(node.target, self._item_index(node)))
        if node.kind == Kind.USERCALL and node.active:
            return out + self.forward_call(node)
        if getattr(node, "readonly", None):    # an effect on values with derivatives
            return out + [readonly_effect(node, lambda: self.ref(readonly, "readonly"))]
        return out + [statement_of(node, self.ref)]

    def forward_branch(self, branch, in_loop):
        return [gast.If(test=_copy(branch.test), body=self.forward_items(branch.body, in_loop),
                        orelse=self.forward_items(branch.orelse, in_loop))]

    def forward_loop(self, loop, in_loop):
        out, body = [], self.forward_items(loop.body, True)
        if self._needs_trips(loop):
            trips = self._trips[loop] = self.names.fresh("trips")
            if in_loop:                # a count per outer iteration: saved like a value
                out.append(Save(trips))
                self._trips_saved.add(loop)
            out.append(assign(trips, gast.Constant(value=0, kind=None)))
            body.insert(0, assign(trips, gast.BinOp(left=name(trips), op=gast.Add(),
                                                    right=gast.Constant(value=1, kind=None))))
        header = copy.copy(loop.stmt)          # the header; the body is new
        header.body = body
        return out + [header]

    def forward_jump(self, jump, in_loop):
        return [_copy(jump.stmt)]

    def _item_index(self, node):
        """For ``x[i] = v``: the index expression, since only ``x[i]`` is overwritten."""
        if node.primitive is setitem:
            return node.args[1].index                 # slice syntax, used inside x[...]
        if node.primitive is list_append:
            return APPEND                             # undone by L.pop(), no stack
        return None

    @staticmethod
    def _needs_trips(loop):
        return loop.kind == "while" or loop.has_break

    # -- the reverse sweep -------------------------------------------------------
    def reverse_items(self, items, context=None):
        """The reverse of a block; ``context`` is the enclosing branch or loop
        comment, not repeated inside it."""
        out, lines = [], _LineComments(self.graph, context)
        for item in reversed(items):
            out.extend(self.visit("reverse", item, lines))
        return out

    def reverse_node(self, node, lines):
        """The node's adjoint statements under a comment with its user line
        (once for a line's nodes), then the restores of what it overwrote."""
        stmts = []
        if node.target is not None and node.target in self.defined:
            if node.active:
                stmts = self.node_adjoint(node)
                stmts = lines.comment(node) + stmts if stmts else stmts
            else:
                self.defined.discard(node.target)   # a new value: its old adjoint ends
        if node.target is not None and node not in self.initial:
            stmts.append(Restore(node.target, self._item_index(node)))
            if node in self._saved:
                stmts.append(Restore(self._saved[node]))
        return stmts

    def reverse_jump(self, jump, lines):
        return []                # the trip count says which iterations ran

    def reverse_branch(self, branch, lines=None):
        """Re-test the condition (restored to its forward value) and reverse
        the branch that ran; an adjoint defined on one side only gets zeros
        on the other, so both sides leave the same adjoints defined."""
        if lines is not None:
            lines.last = None
        before = set(self.defined)
        comment = Comment(self.graph.line_text(branch.lineno), lineno=branch.lineno)
        body = self.reverse_items(branch.body, comment)
        after_body = self.defined
        self.defined = set(before)
        orelse = self.reverse_items(branch.orelse, comment)
        after_else = self.defined
        both = after_body | after_else
        body += [self._zeros(v) for v in sorted(both - after_body)]
        orelse += [self._zeros(v) for v in sorted(both - after_else)]
        self.defined = both
        if not _has_code(body) and not _has_code(orelse):
            return body + orelse
        test = _copy(branch.test)
        if not _has_code(body):
            test, body, orelse = gast.UnaryOp(op=gast.Not(), operand=test), orelse, []
        return [comment, gast.If(test=test, body=body, orelse=orelse)]

    def reverse_loop(self, loop, lines=None):
        """Replay the iterations backwards.  Adjoints that the body accumulates
        (shared weights) start as zeros before the loop; adjoints the body
        ends are re-zeroed at its end, so every iteration starts alike.

        Which adjoints those are is a fixpoint over trial reversals of the
        body whose code is discarded.  Both the fixpoint and the set of
        adjoints defined after the loop depend only on the loop and the
        adjoints defined on entry, so they are remembered: a nested loop met
        again during an enclosing loop's trials costs nothing, and each loop
        body is generated a bounded number of times however deep it is
        nested (plain trials would cost 2^depth).
        """
        if lines is not None:
            lines.last = None
        key = (id(loop), frozenset(self.defined))
        if self._trial and key in self._loop_exits:
            self.defined = set(self._loop_exits[key])        # only its effect matters here
            return []
        entry = self._loop_fixpoints.get(key)
        if entry is None:
            entry = self._loop_fixpoints[key] = frozenset(self._loop_fixpoint(loop))
        inits = [self._zeros(v) for v in sorted(entry - self.defined)]
        self.defined = set(entry)
        comment = Comment(self.graph.line_text(loop.lineno), lineno=loop.lineno)
        body = self.reverse_items(loop.body, comment)
        body += [self._zeros(v) for v in sorted(entry - self.defined)]
        self.defined = set(entry)
        self._loop_exits[key] = entry
        after = [Restore(self._trips[loop])] if loop in self._trips_saved else []
        if not _has_code(body):
            return inits + body + after
        reversed_loop = gast.For(target=self._reverse_target(loop), iter=self._reverse_iter(loop),
                                 body=body, orelse=[], type_comment=None)
        reversed_loop.srcad_reverse = True    # its header cannot raise: the forward loop ran it
        first = _first_index(loop)
        if first is not None:          # for passes/last_adjoint.py
            reversed_loop.srcad_last = (loop.target, first, {self.adjoint(v) for v in entry})
        return inits + [comment, reversed_loop] + after

    def _loop_fixpoint(self, loop):
        """The adjoints defined at the start of every reversed iteration: those
        defined on entry plus those the body defines, until nothing grows."""
        entry = set(self.defined)
        self._trial += 1
        try:
            while True:
                state = self._snapshot()
                self.defined = set(entry)
                self.reverse_items(loop.body)
                grown = self.defined - entry
                self._restore(state)
                if not grown:
                    return entry
                entry |= grown
        finally:
            self._trial -= 1

    def _reverse_target(self, loop):
        return store(loop.target if loop.kind == "for" else "_")

    def _reverse_iter(self, loop):
        if loop.kind == "while":
            return call(name("range"), name(self._trips[loop]))
        iterable = _copy(loop.stmt.iter)
        if loop.has_break:
            iterable = gast.Subscript(value=iterable, slice=gast.Slice(
                lower=None, upper=name(self._trips[loop]), step=None), ctx=gast.Load())
        return call(name("reversed"), iterable)


class _LineComments:
    """The comments of a reversed block: a node's user line above its adjoint,
    once for consecutive nodes of one line, never the enclosing ``context``."""

    def __init__(self, graph, context):
        self.graph, self.last = graph, None
        self.context = context.text if context is not None else None

    def comment(self, node):
        if (node.lineno, node.end_lineno) == self.last:
            return []
        self.last = (node.lineno, node.end_lineno)
        text = self.graph.source_text(node)
        return [Comment(text, lineno=node.lineno)] if text != self.context else []


def _has_code(stmts):
    """True when a reverse block holds a statement (comments and markers aside)."""
    return any(isinstance(s, gast.AST) or isinstance(s, (Save, Restore)) for s in stmts)


def _first_index(loop):
    """The index of a range loop's first iteration (its reversal's last), or None."""
    it = loop.stmt.iter if loop.kind == "for" else None
    if not (isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 3 and not it.keywords and isinstance(loop.target, str)):
        return None
    if len(it.args) == 1:
        return gast.Constant(value=0, kind=None)
    start = it.args[0]
    return _copy(start) if isinstance(start, (gast.Name, gast.Constant)) else None
