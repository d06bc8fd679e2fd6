"""What the body passes share: statement blocks, where names are read and bound."""

from collections import Counter, defaultdict

import gast

from srcad.trees import all_nodes, name_nodes


def writes_in_place(body):
    """``body`` writes into an object (``x[i] = v``, ``x.a = v``, ``x += v``,
    or a helper that writes into its argument): a value read later may not be
    the one read before."""
    for node in all_nodes(body):
        if isinstance(node, gast.AugAssign):
            return True
        if isinstance(node, (gast.Subscript, gast.Attribute)) and type(node.ctx) is gast.Store:
            return True
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in (
                "setitem", "restore_entry", "list_append", "scatter_add"):
            return True
    return False


def blocks(body):
    """Every statement list in ``body``, ``body`` first (then nested ones)."""
    out = [body]
    for stmt in body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            out += blocks(stmt.body) + blocks(stmt.orelse)
    return out


def counts(body):
    """(stores, loads): how often each name is bound and read in ``body``."""
    stores, loads = Counter(), Counter()
    for stmt in body:
        if isinstance(stmt, gast.AST):
            for n in name_nodes(stmt):
                (loads if type(n.ctx) is gast.Load else stores)[n.id] += 1
    return stores, loads


class Block:
    """One statement list, with the statements that read and bind each name
    (a compound statement reads and binds what its nested blocks do)."""

    def __init__(self, stmts):
        self.stmts = stmts
        self.reads = defaultdict(Counter)      # name -> {statement index: reads}
        self.binds = defaultdict(set)          # name -> statement indices
        self._stores = Counter()               # name -> bindings
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, gast.AST):
                for n in name_nodes(stmt):
                    if type(n.ctx) is gast.Load:
                        self.reads[n.id][i] += 1
                    else:
                        self.binds[n.id].add(i)
                        self._stores[n.id] += 1

    def counts(self):
        """What :func:`counts` gives for the block's statements, from what
        the block has read already (one walk of a body less)."""
        loads = Counter()
        for name, where in self.reads.items():
            loads[name] = sum(where.values())
        return Counter(self._stores), loads

    def last_use(self, i, var, names, loads):
        """The index of the last statement after ``i`` that reads ``var``, when
        every read of ``var`` in the function is after ``i`` in this block and
        no name in ``names`` is rebound before that read; else None."""
        where = self.reads.get(var)
        if not where or sum(where.values()) != loads[var] or min(where) <= i:
            return None
        last = max(where)
        final = self.stmts[last]
        simple_final = isinstance(final, (gast.Assign, gast.Return, gast.Expr)) and all(
            isinstance(t, gast.Name) for t in getattr(final, "targets", ()))
        for b in names:
            for j in self.binds.get(b, ()):
                if i < j < last or (j == last and not simple_final):
                    return None
        return last

    def rename(self, indices, var, make, loads):
        """Replace the reads of ``var`` in the statements ``indices``."""
        moved = self.reads.pop(var, Counter())
        for j in indices:
            self.stmts[j] = Replace(var, make).visit(self.stmts[j])
        loads[var] = 0
        return moved


def simple(stmt):
    """``(target, value)`` of ``name = value`` (no effect marked), else None."""
    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name)
            and not getattr(stmt, "srcad_effect", False)):
        return stmt.targets[0].id, stmt.value
    return None


def simple_assignments(body, first=None):
    """``(stmts, block, i, target, value, dropped)`` for each ``name = value``
    of each block of ``body``: the rewriting passes' loop.  A pass that folds
    ``stmts[i]`` into its readers adds ``i`` to ``dropped``; the block's dropped
    statements are removed once the pass has seen its last one.  ``first``:
    the :class:`Block` of ``body`` itself, when the pass made it already."""
    for stmts in blocks(body):
        block, dropped = first if stmts is body and first is not None else Block(stmts), set()
        for i, stmt in enumerate(stmts):
            pair = simple(stmt)
            if pair is not None:
                yield stmts, block, i, pair[0], pair[1], dropped
        stmts[:] = [s for i, s in enumerate(stmts) if i not in dropped]


def assigned_call(stmt, target, func_name):
    """The call of ``target = func_name(...)`` when ``stmt`` is one, else None."""
    value = getattr(stmt, "value", None)
    if (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == target
            and isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and value.func.id == func_name):
        return value
    return None


def load(id_):
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


class Replace(gast.NodeTransformer):
    """Replaces every read of a name by a fresh copy of an expression."""

    def __init__(self, var, make):
        self.var, self.make = var, make

    def visit_Name(self, node):
        if node.id == self.var and type(node.ctx) is gast.Load:
            return self.make()
        return node
