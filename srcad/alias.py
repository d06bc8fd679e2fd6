"""May-alias analysis for in-place writes (``x[i] = v``, ``L.append(v)``, ``v *= 2``).

The graph models an in-place write as a new value of the name written
(``b = setitem(b, i, v)``).  That is right only when no *other* name still in
use refers to the same memory: after ``b = a; b[0] = x`` NumPy changed ``a``
too, but the graph's ``a`` is the old value, and its derivative would be
silently wrong.  This module finds, for every write, the names that may share
memory with the array written, and refuses the write (with the user's line,
the other name and a hint) when one of them is read later, or when the array
may be an argument the caller passed in.

It is a points-to analysis over *abstract objects*: one per parameter, one per
statement that makes a new value.  A name points to the objects it may be (a
set, so that branches and loops join by union); a view, a copy ``b = a``, an
element read ``r = L[0]`` or the result of a function srcad knows nothing
about points to the objects of its argument; a container (a tuple, list or
dict literal, a list grown with ``append``) points to its own object and to
those of every element.  Collapsing containers into their elements this way
is conservative: a write to an element is a write that the container sees.

The analysis is flow-sensitive: ``buf = np.zeros(2); buf[0] = 1.0; buf = x``
writes the new array, not ``x``.  Liveness is computed on the structured graph
(branches, loops, ``break``/``continue``), so the common pattern
``h[t + 1] = np.tanh(W @ h[t])`` in a loop is accepted: the view ``h[t]`` is
not read again after the write.  Reads made by the reverse sweep do not count:
the reverse sweep restores every overwritten part before it reads a value, so
a view sees what it saw in the forward sweep.
"""

import operator

import gast

import srcad.rules as rules
from srcad.errors import NonDifferentiableError
from srcad.runtime import identity, list_append, setitem
from srcad.trees import name_nodes

#: operators that, on lists and tuples, build a container of their operands' elements
SEQUENCE_OPERATORS = {operator.add, operator.mul, operator.iadd, operator.imul}
#: calls that build a new container of their argument's elements: writing to the new
#: container (not to an element) leaves the argument alone
CONTAINER_COPIES = {list, tuple, dict}


class _Param:
    """The abstract object of a parameter: the caller's data."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"param {self.name}"


def check_writes(graph):
    """Refuse every in-place write that would change an argument, or memory
    another live name still refers to.  Called once per graph by ``analyze``."""
    writes = [n for n in graph.nodes if _written(n) is not None]
    if not writes:
        return
    analysis = _Analysis(graph)
    analysis.points_to(graph.body, {p: _pair([_Param(p)], []) for p in graph.params})
    generated = getattr(graph.parsed.func, "srcad_mode", None) is not None
    if not generated:
        analysis.liveness(graph.body, _live_names(graph.output), None)
    for node in writes:
        analysis.check(node, conflicts=not generated)


def _written(node):
    """The name whose *old* value an in-place statement overwrites, or None."""
    if node.primitive in (setitem, list_append) and node.kind != "usercall":
        return node.args[0].id
    return getattr(node.stmt, "srcad_augmented", None)


def _live_names(atom):
    if atom is None:
        return set()
    return {n.id for n in name_nodes(atom) if getattr(n, "srcad_local", False)}


class _Analysis:
    def __init__(self, graph):
        self.graph = graph
        self.before = {}            # node -> points-to state before it
        self.after_live = {}        # node -> names live right after it
        self.order = {id(n): i for i, n in enumerate(graph.nodes)}

    # -- points-to (forward) -------------------------------------------------------
    def points_to(self, items, state, jumps=None):
        """The state after ``items``; records the state before every node."""
        from srcad.graph import Branch, Jump, Loop, Node
        for item in items:
            if isinstance(item, Node):
                self.before[item] = _join(self.before.get(item, {}), state)
                if item.target is not None:
                    state = dict(state)
                    state[item.target] = self.value(item, state)
            elif isinstance(item, Branch):
                state = _join(self.points_to(item.body, state, jumps),
                              self.points_to(item.orelse, state, jumps))
            elif isinstance(item, Loop):
                head = state
                while True:
                    inner = []
                    end = self.points_to(item.body, head, inner)
                    new = _join(head, end, *inner)
                    if new == head:
                        break
                    head = new
                state = head
            elif isinstance(item, Jump):
                if jumps is not None:
                    jumps.append(state)
        return state

    def value(self, node, state):
        """``(direct, held)`` for ``node.target`` after ``node``: the objects whose
        memory it may be (itself, or what it is a view of), and those it may hold
        references to as a container."""
        def direct(atom):
            return set().union(*(state.get(n, _NOTHING)[0] for n in _atom_names(atom)))

        def held(atom):
            return set().union(*(state.get(n, _NOTHING)[1] for n in _atom_names(atom)))

        def every(atoms):
            return set().union(*(direct(a) | held(a) for a in atoms))

        prim, args = node.primitive, node.args
        if node.kind == "const":
            return _NOTHING
        if node.kind == "pack":
            return _pair({node}, every(args))
        if prim is setitem:                   # a list or dict now holds the value too
            return _pair(direct(args[0]), held(args[0]) | every(args[2:]))
        if prim is list_append or node.kind == "push":
            return _pair(direct(args[0]), held(args[0]) | every(args[1:]))
        out = node.kwargs.get("out")
        if out is not None:
            return _pair(direct(out), held(out))
        if prim is operator.getitem or node.kind == "pop" or prim in _DICT_READS:
            # a view of an array, or an element of a container
            return _pair(direct(args[0]) | held(args[0]), held(args[0]))
        if prim in CONTAINER_COPIES and node.kind == "call":
            # the copy holds the argument's elements, not the argument itself when that
            # is a container built here (an array's rows are views of it: it stays)
            if not args:
                return _pair({node}, set())
            return _pair({node}, held(args[0]) | {o for o in direct(args[0]) if not _is_container(o)})
        copy = node.kwargs.get("copy")
        copies = isinstance(copy, gast.Constant) and copy.value is True
        if prim is identity or (args and not copies and (
                rules.registry.returns_view(prim) or copy is not None)):
            if rules.registry.returns_view_of_all(prim):
                atoms = list(args) + list(node.kwargs.values())
                return _pair(set().union(*map(direct, atoms)), set().union(*map(held, atoms)))
            return _pair(direct(args[0]), held(args[0]))
        if rules.registry.returns_view_of_all(prim) and not copies:
            atoms = list(args) + list(node.kwargs.values())
            return _pair(set().union(*map(direct, atoms)), set().union(*map(held, atoms)))
        if prim in SEQUENCE_OPERATORS:        # (a,) + (b,): a new tuple of the same elements
            return _pair({node}, set().union(*map(held, args)))
        if node.kind == "usercall" or not _known(prim):
            # anything may come back: an argument, a view of one, a container of them
            atoms = list(args) + list(node.kwargs.values())
            return _pair({node} | every(atoms), every(atoms))
        return _pair({node}, set())

    # -- liveness (backward) -------------------------------------------------------
    def liveness(self, items, live, loop):
        """Names live before ``items`` given those live after; records the names
        live right after every node.  ``loop`` is (live after the loop, live at
        its head) inside a loop body, for ``break`` and ``continue``."""
        from srcad.graph import Branch, Jump, Loop, Node
        live = set(live)
        for item in reversed(items):
            if isinstance(item, Node):
                self.after_live[item] = self.after_live.get(item, set()) | live
                if item.target is not None:
                    live.discard(item.target)
                live |= set(item.inputs)
            elif isinstance(item, Branch):
                live = (self.liveness(item.body, live, loop) | self.liveness(item.orelse, live, loop)
                        | _live_names(item.test))
            elif isinstance(item, Loop):
                header = _live_names(item.stmt.iter if item.kind == "for" else item.stmt.test)
                head = live | header
                while True:
                    body = self.liveness(item.body, head, (live, head))
                    new = live | header | body
                    if new <= head:
                        break
                    head = head | new
                live = head
            elif isinstance(item, Jump):
                live = set(loop[0]) | set(loop[1]) if loop is not None else live
        return live

    # -- the check ---------------------------------------------------------------
    def check(self, node, conflicts=True):
        graph, source = self.graph, self.graph.parsed.source
        old = _written(node)
        state = self.before.get(node, {})
        objects = state.get(old, _NOTHING)[0]
        shown = self.user_name(old)
        augmented = getattr(node.stmt, "srcad_augmented", None) is not None
        params = sorted(o.name for o in objects if isinstance(o, _Param))
        if params and not augmented:
            raise source.error(
                NonDifferentiableError,
                f"this line updates {shown!r} in place, which is (or may share memory "
                f"with) the argument {params[0]!r}: the caller's data must not change", node.stmt,
                hint=f"work on a copy: {shown} = {shown}.copy() before this line")
        if not conflicts:
            return
        for other in sorted(self.after_live.get(node, ()), key=str):
            direct, held = state.get(other, _NOTHING)
            if other in (old, node.target) or not (direct | held) & objects:
                continue
            what = ("an augmented assignment" if augmented else
                    "a list append" if node.primitive is list_append else "an element or slice assignment")
            mine = self.user_name(other)
            hint = (f"if {mine!r} should keep its old value, copy first ({shown} = {shown}.copy()); "
                    f"if it should see the change, write through {mine!r} itself or build it after "
                    "the last write")
            if augmented:
                hint = f"write {shown} = {shown} <op> ... for a new value; or " + hint
            raise source.error(
                NonDifferentiableError,
                f"this line updates {shown!r} in place ({what}), but {self.describe(other)} "
                f"may share memory with it and is read again {self.where_read(other, node)}: "
                f"srcad cannot follow a write through an alias, view or container", node.stmt,
                hint=hint)

    def user_name(self, name):
        """``name`` as the user wrote it (``a_1`` -> ``a``) when it is one of theirs."""
        users = self._user_names()
        if name in users:
            return name
        stem = name.rsplit("_", 1)[0]
        return stem if stem in users and name.rsplit("_", 1)[-1].isdigit() else name

    def describe(self, name):
        """How the user knows ``name``: theirs, or the value a line computes."""
        shown = self.user_name(name)
        if shown in self._user_names():
            return repr(shown)
        defs = [n for n in self.graph.nodes if n.target == name]
        if defs and defs[0].lineno is not None:
            return f"the value of `{self.graph.source_text(defs[0])}` (line {defs[0].lineno})"
        return repr(name)

    def where_read(self, name, write):
        """``at line N``: the first later statement that reads ``name``."""
        nodes = self.graph.nodes
        start = self.order.get(id(write), 0)
        for n in nodes[start + 1:] + nodes[:start]:
            if name in n.inputs and n.lineno is not None:
                return f"at line {n.lineno}"
        return "when the function returns"

    def _user_names(self):
        if not hasattr(self, "_users"):
            self._users = {n.id for n in name_nodes(self.graph.parsed.node)}
        return self._users


_DICT_READS = {getattr(dict, m) for m in ("get", "keys", "values", "items")}


def _is_container(obj):
    """An abstract object that is a tuple, list or dict made in the function."""
    return not isinstance(obj, _Param) and (obj.kind == "pack" or obj.primitive in CONTAINER_COPIES)


def _known(prim):
    """A primitive srcad has a rule for (or knows is constant): it returns a new
    value unless declared a view."""
    if prim is None:
        return False
    return (rules.lookup(prim) is not None or rules.lookup_tangent(prim) is not None
            or rules.is_nondifferentiable(prim))


def _atom_names(atom):
    from srcad.graph import IndexAtom
    if isinstance(atom, IndexAtom) or not isinstance(atom, gast.AST):
        return []
    return [n.id for n in name_nodes(atom) if getattr(n, "srcad_local", False)]


_NOTHING = (frozenset(), frozenset())


def _pair(direct, held):
    return frozenset(direct), frozenset(held)


def _join(*states):
    out = {}
    for s in states:
        for name, (direct, held) in s.items():
            if name in out:
                out[name] = (out[name][0] | direct, out[name][1] | held)
            else:
                out[name] = (direct, held)
    return out
