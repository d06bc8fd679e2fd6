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

An ``op=`` is in place on arrays and lists but makes a new value on floats
and NumPy scalars; where a conflicting one may be either, it is not refused
here but guarded (``node.srcad_guards``: ``not_an_array(v)`` in the forward
sweep, ``runtime.NotAnArray``), which refuses it when it runs on an array.

Calls (``check_calls``): a user function srcad can read is analysed the same
way (``callee_effects``: which parameters it writes into, which its result may
be), so its result aliases only what it can return, and a call that writes
into an argument -- the callee's writes, ``out=``, ``np.copyto``, mutating
methods -- is refused on the call's line when the write matters.
"""

import operator
import weakref

import gast
import numpy as np

from srcad.ir import Kind, Visitor
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
    if not writes or getattr(graph.parsed.func, "srcad_mode", None) is not None:
        # Generated code (differentiated again) writes only where the user's code
        # did, which its first derivative checked, and where its reverse sweep
        # restores those writes; values its stacks and saved tuples collapse
        # together would only give false refusals (an argument "held" by a
        # popped value, the split's own `saved`).
        return
    analysis = _analysis_of(graph)
    for node in writes:
        analysis.check(node)


def check_calls(graph):
    """Refuse every call that may write into one of its arguments (``out=``,
    ``np.copyto``, ``a.fill``, ``a.sort()``, ``L.extend``, a function of the
    user's that writes into a parameter) where the write would matter.

    The graph cannot see such a write: ``t = h(a)`` leaves the graph's ``a``
    as it was, and when ``t`` is never read the call is not even part of the
    derivative, so the gradient (and, once dead code is dropped, the value)
    would silently be that of the unchanged ``a``.  Called by ``analyze``
    before rules are attached, so the refusal names the call on the user's
    line rather than a line inside the callee.  Every such call is marked as
    an effect, so dead-code elimination keeps it where it is allowed (on
    values that carry no derivative)."""
    if getattr(graph.parsed.func, "srcad_mode", None) is not None:
        return                          # srcad's own stacks and restores
    sites = [(n, w) for n in graph.nodes for w in [_call_writes(graph, n)] if w]
    if not sites:
        return
    analysis = _analysis_of(graph)
    for node, writes in sites:
        node.stmt.srcad_effect = True
        analysis.check_call(node, writes)


def _analysis_of(graph):
    """The points-to state and liveness of ``graph``."""
    analysis = _Analysis(graph)       # (only for the user's code: generated code is not checked)
    analysis.points_to(graph.body, {p: _pair([_Param(p)], []) for p in graph.params})
    analysis.liveness(graph.body, _live_names(graph.output), None)
    return analysis


def gast_text(expr):
    from srcad.graph import gast_text as text
    return text(expr)


def _written(node):
    """The name whose *old* value an in-place statement overwrites, or None."""
    if node.primitive in (setitem, list_append) and node.kind != Kind.USERCALL:
        return node.args[0].id
    return getattr(node.stmt, "srcad_augmented", None)


def _live_names(atom):
    if atom is None:
        return set()
    return {n.id for n in name_nodes(atom) if getattr(n, "srcad_local", False)}


class _Analysis(Visitor):
    def __init__(self, graph, seen=frozenset()):
        self.graph = graph
        self.seen = seen            # the callees whose effects are being computed
        self.before = {}            # node -> points-to state before it
        self.after_live = {}        # node -> names live right after it
        self.order = {id(n): i for i, n in enumerate(graph.nodes)}

    # -- points-to (forward) -------------------------------------------------------
    def points_to(self, items, state, jumps=None):
        """The state after ``items``; records the state before every node.
        ``jumps`` collects the states at ``break``/``continue`` in a loop body."""
        for item in items:
            state = self.visit("points_to", item, state, jumps)
        return state

    def points_to_node(self, node, state, jumps):
        self.before[node] = _join(self.before.get(node, {}), state)
        if node.target is None:
            return state
        state = dict(state)
        state[node.target] = self.value(node, state)
        return state

    def points_to_branch(self, branch, state, jumps):
        return _join(self.points_to(branch.body, state, jumps), self.points_to(branch.orelse, state, jumps))

    def points_to_loop(self, loop, state, jumps):
        head = state
        while True:
            inner = []
            end = self.points_to(loop.body, head, inner)
            new = _join(head, end, *inner)
            if new == head:
                return head
            head = new

    def points_to_jump(self, jump, state, jumps):
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
        if node.kind == Kind.CONST:
            return _NOTHING
        if node.kind == Kind.PACK:
            return _pair({node}, every(args))
        if prim is setitem:                   # a list or dict now holds the value too
            return _pair(direct(args[0]), held(args[0]) | every(args[2:]))
        if prim is list_append or node.kind == Kind.PUSH:
            return _pair(direct(args[0]), held(args[0]) | every(args[1:]))
        out = node.kwargs.get("out")
        if out is not None:
            return _pair(direct(out), held(out))
        if prim is operator.getitem or node.kind == Kind.POP or prim in _DICT_READS:
            # a view of an array, or an element of a container
            return _pair(direct(args[0]) | held(args[0]), held(args[0]))
        if prim in CONTAINER_COPIES and node.kind == Kind.CALL:
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
        if prim in SEQUENCE_OPERATORS and not any(_float_constant(a) for a in args):
            # (a,) + (b,): a new tuple of the same elements (not v * 1.0: no
            # sequence is added to or repeated by a float)
            return _pair({node}, set().union(*map(held, args)))
        if node.kind == Kind.USERCALL or not _known(prim):
            # anything may come back: an argument, a view of one, a container of
            # them -- unless srcad reads the function and finds which can
            atoms = self.returned_arguments(node)
            if atoms is None:
                atoms = list(args) + list(node.kwargs.values())
            return _pair({node} | every(atoms), every(atoms))
        return _pair({node}, set())

    def returned_arguments(self, node):
        """The argument atoms a call of a user function may return (a view of,
        or a container holding, them): ``[]`` when it returns only new values;
        None when srcad cannot tell (not a user function, not readable)."""
        from srcad.graph import _is_user_function
        prim = node.primitive
        if not _is_user_function(prim):
            return None
        effects = callee_effects(prim, self.seen)
        _merge_facts(self.graph, effects)
        if isinstance(effects, (_Recursive, _Opaque, _Unreadable)):
            return None
        if not effects.result:
            return []
        bound = _bind_params(prim, list(node.args), dict(node.kwargs))
        if bound is None:
            return None
        return [bound[p] for p in effects.result if p in bound] or []

    def not_array(self, objects, visiting=None):
        """True when none of ``objects`` can be an ndarray: constants, ``math``
        results, full reductions (NumPy scalars) and elementwise operations on
        such values.  ``op=`` on them makes a new value, never writes in place."""
        from srcad.graph import Node as _Node, _elementwise, _full_reduction
        visiting = set() if visiting is None else visiting
        for obj in objects:
            if not isinstance(obj, _Node) or obj in visiting:
                if isinstance(obj, _Param):
                    return False
                continue
            visiting.add(obj)
            prim = obj.primitive
            if obj.kind == Kind.CONST or prim in (float, int, len, bool) \
                    or getattr(prim, "__module__", None) == "math":
                continue
            if _full_reduction(obj) and "out" not in obj.kwargs:
                continue
            if obj.kind in (Kind.OP, Kind.CALL) and _elementwise(prim) and not obj.kwargs:
                state = self.before.get(obj, {})
                operands = set().union(*(state.get(n, _NOTHING)[0]
                                         for a in obj.args for n in _atom_names(a)))
                if self.not_array(operands, visiting):
                    continue
            return False
        return True

    def check_call(self, node, writes):
        """Refuse the call ``node`` when a write it may make into an argument
        (see :func:`check_calls`) would matter: a write into an array that
        carries a derivative (or of a value that does), or an ``op=`` a callee
        makes on an array parameter whose argument is read again."""
        graph, source = self.graph, self.graph.parsed.source
        call = _call_of(node)
        state = self.before.get(node, {})
        touched = any(n in graph.varied for n in _stmt_names(call))
        for write in writes:
            if write.unknown:
                # a call whose result is used is transformed, which refuses what
                # srcad cannot read; an unused one would silently drop its writes:
                # refused for the same reason
                if touched and node.target is not None and node.target not in graph.useful:
                    e = write.error
                    raise type(e)(e.message, filename=e.filename, lineno=e.lineno, col=e.col,
                                  source_line=e.source_line, hint=e.hint)
                continue
            names = _atom_names(write.atom)
            shown = self.user_name(names[0]) if names else gast_text(write.atom)
            objects = set().union(*(state.get(n, _NOTHING)[0] for n in names))
            where = f" at {write.line}" if write.line else ""
            if write.augmented:
                if self.not_array(objects):
                    continue
                if write.guarded and touched and _runs_generated_code(graph, node):
                    continue        # the callee's generated code runs, and guards its op=
                for other in sorted(self.after_live.get(node, ()), key=str):
                    direct, held = state.get(other, _NOTHING)
                    if other == node.target or not ((direct | held) & objects or other in names):
                        continue
                    error = source.error(
                        NonDifferentiableError,
                        f"this call updates {shown!r} in place ({write.how}{where}, an "
                        f"augmented assignment, which writes into an array argument), and "
                        f"{self.describe(other)} is read again {self.where_read(other, node)}: "
                        "srcad cannot follow an in-place update made inside a call", call,
                        hint="in the called function, write p = p <op> ... (a new value) "
                             "instead of p <op>= ...")
                    for n in names:     # in place only if it is an array: known when f runs
                        _guard(node, n, error)
                    break
                continue
            if not (touched or any(n in graph.varied for n in names)):
                continue
            if _outward(graph, write.atom):
                continue
            params = sorted(o.name for o in objects if isinstance(o, _Param))
            if params:
                raise source.error(
                    NonDifferentiableError,
                    f"this call may write into {shown!r} in place ({write.how}{where}), which is "
                    f"(or may share memory with) the argument {params[0]!r}: the caller's data "
                    "must not change", call, hint=_call_hint(write, shown))
            raise source.error(
                NonDifferentiableError,
                f"this call may write into {shown!r} in place ({write.how}{where}): srcad does "
                "not follow writes a call makes into its arguments", call,
                hint=_call_hint(write, shown))

    # -- liveness (backward) -------------------------------------------------------
    def liveness(self, items, live, loop):
        """Names live before ``items`` given those live after; records the names
        live right after every node.  ``loop`` is (live after the loop, live at
        its head) inside a loop body, for ``break`` and ``continue``."""
        live = set(live)
        for item in reversed(items):
            live = self.visit("liveness", item, live, loop)
        return live

    def liveness_node(self, node, live, loop):
        self.after_live[node] = self.after_live.get(node, set()) | live
        if node.target is not None:
            live.discard(node.target)
        return live | set(node.inputs)

    def liveness_branch(self, branch, live, loop):
        return (self.liveness(branch.body, live, loop) | self.liveness(branch.orelse, live, loop)
                | _live_names(branch.test))

    def liveness_loop(self, item, live, loop):
        header = _live_names(item.stmt.iter if item.kind == "for" else item.stmt.test)
        head = live | header
        while True:
            body = self.liveness(item.body, head, (live, head))
            new = live | header | body
            if new <= head:
                return head
            head = head | new

    def liveness_jump(self, jump, live, loop):
        return set(loop[0]) | set(loop[1]) if loop is not None else live

    # -- the check ---------------------------------------------------------------
    def check(self, node):
        source = self.graph.parsed.source
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
        if augmented and self.not_array(objects):
            return                      # op= on a float or NumPy scalar makes a new value
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
            error = source.error(
                NonDifferentiableError,
                f"this line updates {shown!r} in place ({what}), but {self.describe(other)} "
                f"may share memory with it and is read again {self.where_read(other, node)}: "
                f"srcad cannot follow a write through an alias, view or container", node.stmt,
                hint=hint)
            if augmented:               # in place only if it is an array: known when f runs
                _guard(node, old, error)
                return
            raise error
        if augmented and params and old not in self.graph.params:
            # op= on a name that may be a view of a parameter (v = x[0]; v += 1):
            # on an array it writes into the caller's data (a new value on a
            # number).  Guarded here, so a caller need not refuse the call
            # (see _compute_effects), which only this function's run can tell
            _guard(node, old, source.error(
                NonDifferentiableError,
                f"this line updates {shown!r} in place (an augmented assignment on an array), "
                f"and {shown!r} may share memory with the argument {params[0]!r}: the caller's "
                "data must not change", node.stmt,
                hint=f"write {shown} = {shown} <op> ... for a new value, or copy first "
                     f"({shown} = {shown}.copy())"))

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
    return not isinstance(obj, _Param) and (obj.kind == Kind.PACK or obj.primitive in CONTAINER_COPIES)


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


# -- calls that write into their arguments ------------------------------------------

#: NumPy functions that write into their first argument
_FIRST_ARGUMENT_WRITERS = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal,
                           np.put_along_axis, np.random.shuffle}
_FIRST_ARGUMENT_WRITERS |= {operator.setitem, operator.delitem, operator.iadd, operator.isub,
                            operator.imul, operator.itruediv, operator.ifloordiv, operator.ipow,
                            operator.imatmul, operator.imod}
#: functions whose positional argument at this index (and after) is ``out``
_POSITIONAL_OUT = {np.dot: 2, np.clip: 3, np.cumsum: 3, np.cumprod: 3, np.take: 3,
                   np.choose: 2, np.around: 2, np.round: 2}
#: methods of arrays, lists and dicts that change the object they are called on
MUTATING_METHODS = {"fill", "sort", "partition", "put", "itemset", "resize", "setfield",
                    "byteswap", "append", "extend", "insert", "remove", "reverse", "clear",
                    "pop", "popitem", "update", "setdefault", "__setitem__", "__delitem__",
                    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
                    "__ipow__", "__imatmul__", "__imod__"}


class _Write:
    """One argument a call may write into: the atom, how (for the message),
    whether the write is only an ``op=`` on a parameter of a user function (in
    place on arrays, a new value on floats), the callee line that writes, and
    whether the callee's generated code guards that ``op=`` itself (on a name
    that may be a view of the parameter: known to be an array only when it
    runs)."""

    def __init__(self, atom, how, augmented=False, line=None, unknown=False, guarded=False):
        self.atom, self.how, self.augmented, self.line = atom, how, augmented, line
        self.unknown, self.guarded = unknown, guarded


def _call_of(node):
    """The ``gast.Call`` a node (an assignment or an expression statement) makes."""
    if node.kind not in (Kind.CALL, Kind.USERCALL, Kind.EFFECT):
        return None
    value = getattr(node.stmt, "value", None)
    return value if isinstance(value, gast.Call) else None


def _call_writes(graph, node, seen=frozenset()):
    """The :class:`_Write` s of the call ``node`` makes (empty for most calls)."""
    from srcad.graph import GraphBuilder, _is_local, _is_user_function
    call = _call_of(node)
    if call is None or node.primitive is list_append:
        return []
    args = list(call.args)
    kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    writes = []
    out = kwargs.get("out")
    if out is not None and not (isinstance(out, gast.Constant) and out.value is None):
        writes.append(_Write(out, "its out= argument"))
    func = call.func
    if isinstance(func, gast.Attribute) and _is_local(func.value):
        method = func.attr
        if method in MUTATING_METHODS:
            writes.append(_Write(func.value, f".{method}() changes {gast_text(func.value)!r}"))
        return writes
    prim = GraphBuilder._resolve_static(graph.parsed.namespace, func)
    first_out = prim.nin if isinstance(prim, np.ufunc) else _POSITIONAL_OUT.get(prim) \
        if _hashable(prim) else None
    if first_out is not None and len(args) > first_out:           # np.add(a, b, out)
        writes.extend(_Write(a, "its out= argument") for a in args[first_out:])
    if _hashable(prim) and (prim in _FIRST_ARGUMENT_WRITERS or _is_ufunc_at(prim)) and args:
        writes.append(_Write(args[0], "it writes into its first argument"))
    elif _is_user_function(prim) and not any(isinstance(a, gast.Starred) for a in args):
        prim = _at_this_call(graph, prim, node)
        effects = callee_effects(prim, seen)
        _merge_facts(graph, effects)
        if isinstance(effects, _Unreadable):    # refused when used, and see check_call
            write = _Write(None, "", unknown=True)
            write.error = effects.error
            return writes + [write]
        bound = _bind_params(prim, args, kwargs)
        for param, (augmented, line, guarded) in sorted(effects.writes.items()):
            atoms = _written_atoms(prim, func, param, bound, args + list(kwargs.values()))
            for atom in atoms:
                writes.append(_Write(atom, f"{prim.__name__} changes its parameter {param!r} in place",
                                     augmented=augmented, line=line, guarded=guarded))
    return writes


def _runs_generated_code(graph, node):
    """Whether the call ``node`` of a user function will run the callee's
    generated code (it is differentiated: its result is used, and the
    function has no rule of its own and is not marked nondifferentiable), not
    the function itself."""
    from srcad import rules
    prim = node.primitive
    if node.target is None or node.target not in graph.useful or prim is None or not _hashable(prim):
        return False
    return rules.lookup(prim) is None and rules.lookup_tangent(prim) is None \
        and not rules.is_nondifferentiable(prim)


def _float_constant(atom):
    return isinstance(atom, gast.Constant) and isinstance(atom.value, (float, complex))


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _is_ufunc_at(prim):
    return getattr(prim, "__name__", None) == "at" and isinstance(getattr(prim, "__self__", None), np.ufunc)


def _at_this_call(graph, prim, node):
    """A variadic user function (a decorator's ``wrapper(*args, **kwargs)``) as
    this call specialises it (srcad/calls.py: named parameters for the call's
    arguments), so that what it writes can be read; else ``prim`` itself."""
    from srcad.calls import is_variadic
    from srcad.graph import _bound_self, _specialised_callee
    from srcad.errors import SrcadError
    if not is_variadic(getattr(prim, "__func__", prim)) or not hasattr(node, "kwargs"):
        return prim
    had = hasattr(node, "bound_self")      # set when rules are attached, after this check
    try:
        if not had:
            node.bound_self = _bound_self(graph, node)
        return _specialised_callee(graph, prim, node)
    except (SrcadError, TypeError, ValueError):
        return prim
    finally:
        if not had:
            del node.bound_self


def _outward(graph, atom):
    """A write into a global or closure object that the function reads only as
    the receiver of call statements (``RECORDER.record(loss)``, ``ax.plot(x)``):
    the effect leaves the function, and nothing it changes flows back into the
    differentiated result (docs/conventions.md: such calls must not change the
    values passed to them)."""
    from srcad.graph import _only_receiver
    return (isinstance(atom, gast.Name) and not getattr(atom, "srcad_local", False)
            and _only_receiver(graph, atom.id))


def _written_atoms(prim, func, param, bound, every):
    """The atoms of a call that the callee ``prim``'s write into its parameter
    ``param`` may change: the argument bound to it; for a bound method's
    ``self``, the object before the dot (``recorder.record(loss)`` writes into
    ``recorder``, not into ``loss``); nothing for a parameter the call leaves at
    its default; every argument when the call does not bind (``every``)."""
    import inspect
    if bound is None:
        return every
    if param in bound:
        return [bound[param]]
    target = getattr(prim, "__func__", prim)
    first = next(iter(inspect.signature(target, follow_wrapped=False).parameters), None)
    if inspect.ismethod(prim) and param == first and isinstance(func, gast.Attribute):
        return [func.value]
    return []


def _bind_params(fn, args, kwargs):
    """``param -> atom`` of a call of the user function ``fn`` (None if it does not bind)."""
    import inspect
    target = getattr(fn, "__func__", fn)
    try:
        signature = inspect.signature(target, follow_wrapped=False)
        leading = [None] if inspect.ismethod(fn) else []
        bound = signature.bind(*leading, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    out = {}
    for param in signature.parameters.values():
        value = bound.arguments.get(param.name)
        if param.kind is param.VAR_POSITIONAL or param.kind is param.VAR_KEYWORD:
            return None
        if value is not None:
            out[param.name] = value
    return out


class Effects:
    """What a user function does to its parameters, for its callers.

    ``writes``: parameter -> (augmented, line) for each parameter whose memory
    the function may change (``p[0] = 0.0``, ``v = p[1:]; v[0] = 0.0``,
    ``p.fill(0.0)``, a call that does; ``augmented`` when the only writes are
    ``p += ...``, which change a float argument not at all).  ``result``:
    the parameters the returned value may be, be a view of, or hold."""

    def __init__(self, writes, result):
        self.writes, self.result = writes, frozenset(result)
        self.facts, self.deps = None, []        # what it relied on (see callee_effects)


_EFFECTS = weakref.WeakKeyDictionary()      # function -> its Effects
_USED = []          # a stack: the Effects each computation under way relied on


def callee_effects(fn, seen=frozenset()):
    """The :class:`Effects` of the user function ``fn`` (``_Unreadable`` if srcad
    cannot read it).  A recursive call is assumed to return any of its arguments.

    Cached on the function while what it relied on holds (its code, the names
    it resolved, the effects of its own callees: ``caches.Facts``), so a
    rebinding of a callee's callee is seen.  The facts are also handed to the
    computation under way (``_USED``), whose caller merges them into its own."""
    fn = getattr(fn, "__func__", fn)
    effects = _EFFECTS.get(fn)
    if effects is None or not _current(effects):
        if fn in seen:
            return _RECURSIVE
        _USED.append([])
        try:
            effects = _compute_effects(fn, seen | {fn})
        finally:
            effects_used = _USED.pop()
        effects.deps = effects_used
        try:
            _EFFECTS[fn] = effects
        except TypeError:
            pass
    if _USED:
        _USED[-1].append(effects)
    return effects


def _current(effects, seen=None):
    seen = set() if seen is None else seen
    if id(effects) in seen:
        return True
    seen.add(id(effects))
    facts = getattr(effects, "facts", None)
    return (facts is None or facts.hold()) and all(_current(d, seen) for d in effects.deps)


def _merge_facts(graph, effects, seen=None):
    """Make ``graph``'s derivative rely on what ``effects`` relied on (checked
    when it is looked up again; no guard in the generated code: path None)."""
    seen = set() if seen is None else seen
    if id(effects) in seen:
        return
    seen.add(id(effects))
    facts = getattr(effects, "facts", None)
    mine = graph.parsed.namespace.facts
    for kind, holder, name, key, _ in (facts.items if facts is not None else ()):
        marker = (kind, id(holder), name)
        if marker not in mine._seen:
            mine._seen.add(marker)
            mine.items.append((kind, holder, name, key, None))
    for dep in effects.deps:
        _merge_facts(graph, dep, seen)


def _compute_effects(fn, seen):
    from srcad import parse
    from srcad.errors import SrcadError
    from srcad.graph import GraphBuilder
    from srcad.normalize import normalize, param_names
    from srcad import caches
    try:
        parsed = parse.parse_function(fn)
    except SrcadError as error:
        return _with_facts(_Unreadable(error), caches.record_function(caches.Facts(), fn))
    facts = caches.record_function(parsed.namespace.facts, fn)
    try:
        anf = normalize(parsed, callee=True)
        graph = GraphBuilder(parsed, anf).build(param_names(anf))
    except SrcadError as error:
        return _with_facts(_syntactic_effects(parsed, seen) or _Unreadable(error), facts)
    analysis = _Analysis(graph, seen)
    end = analysis.points_to(graph.body, {p: _pair([_Param(p)], []) for p in graph.params})
    result = set()
    for name in _atom_names(graph.output) if graph.output is not None else []:
        direct, held = end.get(name, _NOTHING)
        result |= {o.name for o in direct | held if isinstance(o, _Param)}
    writes = {}

    def wrote(objects, node, augmented, guarded=False):
        for o in objects:
            if isinstance(o, _Param):
                old = writes.get(o.name)
                if old is None or (old[0] and not augmented) or (old[0] == augmented and old[2] and not guarded):
                    writes[o.name] = (augmented, node.lineno, guarded)

    for node in graph.nodes:
        state = analysis.before.get(node, {})
        old = _written(node)
        augmented = getattr(node.stmt, "srcad_augmented", None) is not None
        if old is not None:
            # an op= on a name that may be a view of a parameter is guarded in
            # the function's own generated code (_Analysis.check)
            wrote(state.get(old, _NOTHING)[0], node, augmented, augmented and old not in graph.params)
        for write in _call_writes(graph, node, seen):
            objects = set().union(*(state.get(n, _NOTHING)[0] for n in _atom_names(write.atom)))
            wrote(objects, node, write.augmented)
    lines = {p: (aug, f"line {lineno}: `{graph.line_text(lineno)}`" if lineno else "", guarded)
             for p, (aug, lineno, guarded) in writes.items()}
    return _with_facts(Effects(lines, result), facts)


def _with_facts(effects, facts):
    effects.facts = facts
    return effects


def _guard(node, name, error):
    """Raise ``error`` when ``name`` is an array as ``node`` runs (see
    ``runtime.NotAnArray``): an ``op=`` there is in place only on arrays."""
    from srcad.runtime import NotAnArray
    guards = node.__dict__.setdefault("srcad_guards", [])
    if name not in [n for n, _ in guards]:
        guards.append((name, NotAnArray(error)))


def _call_hint(write, shown):
    how = write.how
    if how.startswith("its out="):
        return f"assign the result instead of passing out= ({shown} = the call without out=)"
    if how.startswith(".fill"):
        return f"assign a new array ({shown} = np.full_like({shown}, value)) or write {shown}[...] = value"
    if how.startswith(".sort"):
        return f"assign a sorted copy: {shown} = np.sort({shown})"
    if how.startswith("."):
        return ("build a new value and assign it (for a list: "
                f"{shown} = {shown} + [...]; for an array: {shown}[...] = value)")
    if how.startswith("it writes"):
        return f"assign a new array instead, or write {shown}[...] = value"
    return ("make the called function work on a copy (p = p.copy() before it writes) and "
            "return what the caller needs")


def _stmt_names(expr):
    return [n.id for n in name_nodes(expr) if getattr(n, "srcad_local", False)]


class _Recursive(Effects):
    pass


class _Unreadable(Effects):
    """A function srcad cannot read or differentiate: ``error`` says why."""

    def __init__(self, error):
        super().__init__({}, ())
        self.error = error


class _Opaque(Effects):
    """A function srcad does not differentiate (``**kwargs``, ...) that provably
    writes nothing: its result may still be any of its arguments."""


def _syntactic_effects(parsed, seen):
    """Effects of a function srcad reads but does not normalize (a decorator's
    ``wrapper(*args, **kwargs)``): ``_Opaque`` with no writes when its body has
    no subscript or attribute store, no ``op=``, no ``out=``, no method call
    and no call of anything but functions without writes (its own callees,
    read the same way, and NumPy or builtin functions with rules); else None."""
    from srcad.graph import GraphBuilder
    namespace = parsed.namespace
    body = getattr(parsed.node, "body", [])
    for node in (n for stmt in (body if isinstance(body, list) else [body]) for n in gast.walk(stmt)):
        if isinstance(node, gast.AugAssign) or (
                isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store)):
            return None
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not parsed.node:
            return None
        if not isinstance(node, gast.Call):
            continue
        if any(kw.arg == "out" for kw in node.keywords):
            return None
        target = GraphBuilder._resolve_static(namespace, node.func)
        if _is_user(target):
            effects = callee_effects(target, seen)
            if isinstance(effects, _Unreadable) or effects.writes:
                return None
        elif target is None or not _known(target) or (_hashable(target) and (
                target in _FIRST_ARGUMENT_WRITERS or target in _POSITIONAL_OUT)) \
                or (isinstance(target, np.ufunc) and len(node.args) > target.nin):
            return None
    return _Opaque({}, ())


def _is_user(obj):
    from srcad.graph import _is_user_function
    return _is_user_function(obj)


_RECURSIVE = _Recursive({}, ())
