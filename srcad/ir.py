"""The kinds of the graph's nodes: what each one does, as a type.

A :class:`srcad.graph.Node` carries a :class:`Kind`.  The graph builder knows
six, from a statement's syntax alone; an analysis that learns more (this call
is of the user's own function; this ``Stack()`` is a loop stack of generated
reverse code) refines the kind along :data:`REFINEMENTS`, through
``Node.refine``, and nowhere else.  The kinds are strings too, so printed
graphs read ``call``, ``op``...

>>> Kind("call") is Kind.CALL, Kind.USERCALL in REFINEMENTS[Kind.CALL]
(True, True)
"""

import enum


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
