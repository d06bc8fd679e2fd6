"""The graph's statements, as types: nodes, regions, and a visitor over them.

A function's graph is a list of items: a :class:`Node` per primitive, a
:class:`Branch` or :class:`Loop` holding lists of items, and a :class:`Jump`
(``break``/``continue``).  Every stage that goes over the items (the two
generators, the alias analysis, the pictures) is a :class:`Visitor`: one
method per item kind and stage, ``<stage>_<tag>``, so a new kind of item is
one new method in each stage, and a stage that lacks it says so.  Analyses
that only look at everything use :func:`walk`.

A :class:`Node` carries a :class:`Kind`.  The graph builder knows
six, from a statement's syntax alone; an analysis that learns more (this call
is of the user's own function; this ``Stack()`` is a loop stack of generated
reverse code) refines the kind along :data:`REFINEMENTS`, through
``Node.refine``, and nowhere else.  The kinds are strings too, so printed
graphs read ``call``, ``op``...

>>> Kind("call") is Kind.CALL, Kind.USERCALL in REFINEMENTS[Kind.CALL]
(True, True)
"""

import enum

import gast

from srcad.trees import name_nodes


class Kind(str, enum.Enum):
    """What a :class:`srcad.graph.Node` does.  The builder gives each node one of the
    first six kinds, from the statement's syntax alone; an analysis that learns
    more refines it (:meth:`Node.refine`, along :data:`REFINEMENTS`).  The
    members are strings, so the printed graph and the rules read ``"call"``.
    """
    CALL = "call"            # a call of a resolved (or unknown) callable
    OP = "op"                # an operator, a subscript, an attribute read, setitem, append
    COPY = "copy"            # name = name
    CONST = "const"          # name = constant
    PACK = "pack"            # name = a tuple, list or dict display
    EFFECT = "effect"        # a statement with no target: print(...), assert, raise
    USERCALL = "usercall"    # CALL of the user's own function, split into a pair (graph._attach_callee)
    STACK = "stack"          # CALL of Stack() in generated reverse code (forward.mark_stacks)
    PUSH = "push"            # EFFECT s.push(v) on such a stack: an update of s
    POP = "pop"              # CALL v = s.pop() on such a stack
    UNAPPEND = "unappend"    # EFFECT L.pop() that undoes L.append(v) in a reverse sweep
    RESTORE = "restore"      # EFFECT restore_entry(d, k, old) that undoes d[k] = v

    def __str__(self):
        return self.value


#: the refinements analyses may make: a builder's kind -> what it may turn out to be
REFINEMENTS = {Kind.CALL: {Kind.USERCALL, Kind.STACK, Kind.POP},
               Kind.EFFECT: {Kind.PUSH, Kind.UNAPPEND, Kind.RESTORE}}


class Item:
    """A statement of the graph.  ``tag`` names its kind for :class:`Visitor`;
    ``regions()`` are the item lists it holds (a branch's two sides, a loop's
    body)."""

    tag = None

    def regions(self):
        return ()


class Visitor:
    r"""A stage over the graph's items: ``self.visit(stage, item, ...)`` calls
    ``self.<stage>_<item.tag>(item, ...)``, so each stage has one method per
    kind of item (``forward_node``, ``forward_branch``, ``forward_loop``,
    ``forward_jump``), and a kind a stage does not handle is an error that names
    the missing method, not a statement silently skipped.

    >>> class Count(Visitor):
    ...     def count_node(self, node): return 1
    ...     def count_jump(self, jump): return 0
    ...     def count_branch(self, branch):
    ...         return sum(self.visit("count", i) for part in branch.regions() for i in part)
    >>> stmt = gast.parse("if a:\n    pass").body[0]
    >>> Count().visit("count", Branch(stmt, [Jump(None), Node(None, None, "effect", None, [], {}, "x")], []))
    1
    >>> Count().visit("count", Loop(gast.parse("while a:\n    pass").body[0], []))
    Traceback (most recent call last):
    ...
    NotImplementedError: internal error: Count has no count_loop for a Loop
    """

    def visit(self, stage, item, *args, **kwargs):
        method = getattr(self, f"{stage}_{item.tag}", None)
        if method is None:
            raise NotImplementedError(f"internal error: {type(self).__name__} has no "
                                      f"{stage}_{item.tag} for a {type(item).__name__}")
        return method(item, *args, **kwargs)


def walk(items):
    """Every item of ``items`` and of the regions inside them, in program
    order (an item before those it holds): for analyses that look at all of
    them alike."""
    todo = list(reversed(items))
    while todo:
        item = todo.pop()
        yield item
        for region in reversed(item.regions()):
            todo.extend(reversed(region))


class Node(Item):
    """One primitive application ``target = primitive(*args, **kwargs)``."""

    tag = "node"

    def __init__(self, stmt, target, kind, primitive, args, kwargs, label):
        self.stmt = stmt                # the A-normal-form statement (forward sweep)
        self.target = target            # output name, or None for effects
        self.kind = Kind(kind)          # what it does (see Kind)
        self.primitive = primitive      # the resolved callable, or None if unknown
        self.args = args                # positional atoms (gast expressions)
        self.kwargs = kwargs            # keyword atoms
        self.label = label              # printable name of the primitive
        self.lineno = getattr(stmt, "lineno", None)
        self.end_lineno = getattr(stmt, "end_lineno", self.lineno)
        self.active = False
        self.rule = None                # the Template of an active node
        self.binding = None             # parameter name -> atom, for the rule
        self.keys = None                # the key atoms of a dict literal
        self._inputs = None

    @property
    def inputs(self):
        """Local names this node reads."""
        if self._inputs is None:
            self._inputs = [n.id for n in name_nodes(self.stmt)
                            if type(n.ctx) is gast.Load and getattr(n, "srcad_local", False)]
        return self._inputs

    def parts(self):
        """``(index, element)`` pairs of a tuple, list or dict literal: the index
        reads the element back out of the result (and out of its adjoint).
        A dict entry whose constant key a later entry repeats is left out: the
        later value overwrote it."""
        if self.keys is None:
            return [(gast.Constant(value=i, kind=None), e) for i, e in enumerate(self.args)]
        later = [repr(k.value) if isinstance(k, gast.Constant) else None for k in self.keys]
        return [(k, e) for i, (k, e) in enumerate(zip(self.keys, self.args))
                if later[i] is None or later[i] not in later[i + 1:]]

    def refine(self, kind, **facts):
        """Turn this node into the more particular ``kind`` an analysis has
        recognised (one of :data:`REFINEMENTS` of its kind), setting ``facts``
        (target, args, callee, ...) with it; its inputs are read afresh."""
        kind = Kind(kind)
        if kind not in REFINEMENTS.get(self.kind, ()):
            raise RuntimeError(f"internal error: a {self.kind.value} node cannot become a {kind.value} one")
        self.kind = kind
        for key, value in facts.items():
            setattr(self, key, value)
        self._inputs = None

    def __repr__(self):
        return f"Node({self.target} = {self.label}({', '.join(self.inputs)}))"



class Branch(Item):
    """``if test: body else: orelse``; the reverse sweep re-tests ``test``."""

    tag = "branch"

    def __init__(self, stmt, body, orelse):
        self.stmt, self.test, self.body, self.orelse = stmt, stmt.test, body, orelse
        self.lineno = stmt.lineno

    def regions(self):
        return (self.body, self.orelse)


class Loop(Item):
    """A ``for i in range(...)`` or ``while test`` loop of the normalized code."""

    tag = "loop"

    def __init__(self, stmt, body):
        self.stmt, self.body = stmt, body
        self.lineno = stmt.lineno
        self.kind = "for" if isinstance(stmt, gast.For) else "while"
        self.target = stmt.target.id if self.kind == "for" else None
        self.has_break = _has_own_break(body)

    def regions(self):
        return (self.body,)


class Jump(Item):
    """``break`` or ``continue``: the end of a branch after normalization."""

    tag = "jump"

    def __init__(self, stmt):
        self.stmt = stmt


def _has_own_break(items):
    """A ``break`` of this loop: in its body or its branches, not in an inner loop's."""
    for item in items:
        if isinstance(item, Jump) and isinstance(item.stmt, gast.Break):
            return True
        if isinstance(item, Branch) and any(map(_has_own_break, item.regions())):
            return True
    return False


