"""Saves and restores: where a value the reverse sweep reads is
overwritten, the forward sweep saves it (a stack in loops) and the reverse
sweep restores it."""

import operator

import gast
import numpy as np

from srcad.ir import Kind, walk
from srcad.graph import DICT_READS, Loop, atom_names
from srcad.builders import assign, call, is_local as _is_local, name
from srcad.trees import loaded
from srcad.runtime import Stack, identity, list_append, restore_entry, snapshot, saved_entry, setitem
from srcad.reverse.support import APPEND, Comment, Restore, Save, _copy, _is_name, rule_argument


class Saves:
    """The :class:`~srcad.reverse.core.ReverseGenerator`'s saves and restores of overwritten values."""

    def _kept(self, forward, atom, base):
        """``atom`` as the forward sweep leaves it, to return after the reverse
        sweep: copied into a fresh name where the reverse sweep restores one
        of its names, and snapshotted (``snapshot``) where it reads a list or
        array updated in place, whose updates the reverse sweep undoes."""
        names, todo = set(), list(atom_names(atom))
        packs = {n.target: n for n in self.graph.nodes if n.kind == Kind.PACK}
        while todo:                        # the names inside containers it holds, too
            found = todo.pop()
            if found not in names:
                names.add(found)
                if found in packs:
                    todo += [n for a in packs[found].args for n in atom_names(a)]
        updated = {n.target for n in self.graph.nodes if n.primitive in (setitem, list_append)}
        if not names & (self.restored | updated):
            return _copy(atom)
        kept = self.names.fresh(base)
        value = _copy(atom)
        if names & updated:
            value = call(self.ref(snapshot, "snapshot"), value)
        forward.append(assign(kept, value))
        return name(kept)

    def _snapshot(self):
        return self.names.snapshot(), dict(self._adjoints), set(self.defined), self.refs.snapshot()

    def _restore(self, state):
        names, adjoints, defined, refs = state
        self.names.restore(names)
        self._adjoints, self.defined = adjoints, defined
        self.refs.restore(refs)

    # -- saving what the forward sweep overwrites -------------------------------
    def resolve_saves(self, forward, reverse):
        """Turn save/restore markers into stack pushes and pops, only for the
        values the reverse sweep actually reads."""
        read = _reads(reverse)
        restored = {m.var for m in _markers(forward) if m.var in read}
        self.restored = restored
        saved = sorted({m.var for m in _markers(forward) if m.var in read and m.index is not APPEND})
        stacks = self.stacks = {v: self.names.fresh(f"{v}_stack") for v in saved}
        stack_class = self.ref(Stack, "Stack") if saved else None
        setup = [assign(stacks[v], call(stack_class)) for v in saved]
        defined_first = {n.target for n in self.initial} | set(self.graph.params)
        setup += [assign(v, gast.Constant(value=None, kind=None)) for v in saved
                  if v not in defined_first]
        entries = _entry_bases(self.graph)

        def lower(stmts):
            out = []
            for stmt in stmts:
                if isinstance(stmt, Restore) and stmt.index is APPEND:
                    if stmt.var in restored:
                        pop = gast.Attribute(value=name(stmt.var), attr="pop", ctx=gast.Load())
                        out.append(gast.Expr(value=call(pop)))
                    continue
                if isinstance(stmt, Save) and stmt.index is APPEND:
                    continue
                if isinstance(stmt, Save):
                    if stmt.var in stacks:
                        push = gast.Attribute(value=name(stacks[stmt.var]), attr="push", ctx=gast.Load())
                        value = name(stmt.var)
                        if stmt.var in entries and stmt.index is not None:   # a dict entry (maybe new)
                            value = call(self.ref(saved_entry, "saved_entry"), value,
                                         rule_argument(stmt.index, self.ref))
                        elif stmt.index is not None:    # the overwritten part, copied
                            part = gast.Subscript(value=value, slice=_copy(stmt.index), ctx=gast.Load())
                            value = call(gast.Attribute(value=self.ref(np, "np"), attr="copy",
                                                        ctx=gast.Load()), part)
                        out.append(gast.Expr(value=call(push, value)))
                    continue
                if isinstance(stmt, Restore):
                    if stmt.var in stacks:
                        pop = gast.Attribute(value=name(stacks[stmt.var]), attr="pop", ctx=gast.Load())
                        if stmt.index is None:
                            restore = assign(stmt.var, call(pop))
                        elif stmt.var in entries:
                            restore = gast.Expr(value=call(self.ref(restore_entry, "restore_entry"),
                                                           name(stmt.var), rule_argument(stmt.index, self.ref),
                                                           call(pop)))
                        else:
                            where = gast.Subscript(value=name(stmt.var), slice=_copy(stmt.index),
                                                   ctx=gast.Store())
                            restore = gast.Assign(targets=[where], value=call(pop), type_comment=None)
                        restore.srcad_effect = True
                        out.append(restore)
                    continue
                for field in ("body", "orelse"):
                    if isinstance(getattr(stmt, field, None), list):
                        setattr(stmt, field, lower(getattr(stmt, field)))
                out.append(stmt)
            return out

        return setup, lower(forward), _prune(lower(reverse))


def _markers(stmts):
    for stmt in stmts:
        if isinstance(stmt, (Save, Restore)):
            yield stmt
        elif isinstance(stmt, gast.AST):
            for field in ("body", "orelse"):
                yield from _markers(getattr(stmt, field, None) or [])


def _reads(stmts):
    return loaded([s for s in stmts if isinstance(s, gast.AST)])


def _prune(stmts):
    """Drop reverse branches and loops left empty once unneeded restores go."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.For)):
            stmt.body = _prune(stmt.body)
            stmt.orelse = _prune(stmt.orelse)
            if not any(isinstance(s, gast.AST) for s in stmt.body + stmt.orelse):
                while out and isinstance(out[-1], Comment) and not out[-1].header:
                    out.pop()                      # its comment goes too
                continue
            if not any(isinstance(s, gast.AST) for s in stmt.body):
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
        out.append(stmt)
    return out


def _entry_bases(graph):
    """Names updated by ``x[k] = v`` that look like dicts: their old entries are
    saved with runtime.saved_entry, which also remembers that a key did not
    exist yet.  Everything else (arrays, lists) keeps ``np.copy(x[i])``."""
    bases = {node.target for node in graph.nodes if node.primitive is setitem}
    return {b for b in bases if _dict_like(graph, b)}


def _dict_like(graph, name, seen=None):
    """``name`` is made by a dict literal, is indexed with a key (``x['w']``) or
    read through a dict method, or is a copy of such a value."""
    seen = set() if seen is None else seen
    if name in seen:
        return False
    seen.add(name)
    if _may_be_keyed(graph, name, names_are_keys=False):
        return True
    for node in graph.nodes:
        if node.target != name:
            continue
        if node.keys is not None or (node.primitive is setitem and _is_key(node.args[1].index)):
            return True
        if node.primitive in (identity, np.ndarray.copy) and _is_local(node.args[0]) \
                and _dict_like(graph, node.args[0].id, seen):
            return True
    return False


def _loop_indices(graph):
    """The counters of the graph's for loops (computed once per graph)."""
    found = getattr(graph, "loop_indices", None)
    if found is None:
        found = graph.loop_indices = {item.target for item in walk(graph.body) if isinstance(item, Loop)}
    return found


def _may_be_keyed(graph, param, names_are_keys=True):
    """True when ``param`` may be a dict whose adjoint lacks entries: it is
    indexed by a key that is neither an int constant nor (``names_are_keys``)
    a loop index, or read through a dict method, or so is an element read back
    out of a container it was packed into."""
    loop_indices = _loop_indices(graph) if names_are_keys else None
    values, holders, seen = [param], [], set()
    while values or holders:
        holder = bool(holders)
        current = (holders if holder else values).pop()
        if (current, holder) in seen:
            continue
        seen.add((current, holder))
        for node in graph.nodes:
            first = node.args[0] if node.args else None
            if node.kind == Kind.PACK and any(_is_name(a, current) for a in node.args):
                holders.append(node.target)          # param may come back out of it
            elif not _is_name(first, current):
                continue
            elif node.primitive is identity:
                (holders if holder else values).append(node.target)
            elif holder and node.primitive is operator.getitem:
                values.append(node.target)
                holders.append(node.target)
            elif not holder and (node.primitive in DICT_READS
                                 or (node.primitive is operator.getitem
                                     and _is_key(node.args[1].index, loop_indices))):
                return True
    return False


def _is_key(index, loop_indices=None):
    """An index that may be a dict key: a constant other than an int, or (with
    ``loop_indices``) a name that is not a loop index."""
    if isinstance(index, gast.Constant):
        return not isinstance(index.value, int)
    return loop_indices is not None and isinstance(index, gast.Name) and index.id not in loop_indices
