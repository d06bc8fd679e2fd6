"""Python floats: a copy of a gradient specialised for float arguments.

A gradient called with Python floats runs its generic code on NumPy
scalars: ``np.sin(a)`` on a float costs 85 ns where ``math.sin(a)`` costs
15, returns an ``np.float64``, and every operation after it is NumPy-scalar
arithmetic (31 ns a product, where floats take 6).  The helpers that make the
generic code right for arrays (``unbroadcast``, ``like``, ``repeat_to``,
``zeros_like``, the loop stacks of shapes, ``check_scalar``) do nothing on
floats but still cost a call.

:func:`plan` decides, and the function it returns writes, a second
function for the case where every argument is a Python float, as the generic code would run then: NumPy's
one-argument math on a number is ``math``'s, and each array helper is what
it returns on floats.  It does so only when it can prove what every value
is -- a float, an int (loop counters, ``range`` trips) or ``None`` (a loop
stack's first entry) -- and when no call can have an effect; anything else
(a subscript, a method, a call of the user's functions) and it writes
nothing.  Where ``math`` and NumPy differ they differ by raising:
``math.log(0.0)`` raises ``ValueError`` where ``np.log`` returns ``-inf``,
``math.exp(1000.0)`` raises ``OverflowError``, a float division by zero
raises ``ZeroDivisionError``; the generic function then runs instead and
gives NumPy's answer (see :func:`dispatch`).  Nothing the copy runs has an
effect, so running the generic code after it is the same as running it
alone.

Once the helpers are gone their operands often are too: a stack that only
held shapes, a forward value computed only to be checked, copies.  The
gradient of ``for i in range(1000): x = x - 0.01 * np.sin(x) * y``::

    >>> from srcad.passes import demo
    >>> from srcad.reverse import Comment
    >>> def run(body):
    ...     body.insert(7, Comment("reverse sweep", header=True))
    ...     return specialise_body(body, ["x", "y", "dout"])
    >>> demo(run, '''
    ... mul_x_stack = Stack()
    ... mul_y_stack = Stack()
    ... x_stack = Stack()
    ... mul_x = None
    ... mul_y = None
    ... check_inputs(x, y)
    ... for i in range(1000):
    ...     sin_x = np.sin(x)
    ...     mul_x_stack.push(mul_x)
    ...     mul_x = 0.01 * sin_x
    ...     mul_y_stack.push(shape_of(mul_y))
    ...     mul_y = mul_x * y
    ...     sub_x = x - mul_y
    ...     x_stack.push(x)
    ...     x = sub_x
    ... dx = repeat_to(dout, x, None, False)
    ... dy = zeros_like(y)
    ... for i in reversed(range(1000)):
    ...     dsub_x = dx
    ...     x = x_stack.pop()
    ...     dx = unbroadcast(dsub_x, x)
    ...     dmul_y = unbroadcast(-dsub_x, mul_y)
    ...     dmul_x = unbroadcast(dmul_y * y, mul_x)
    ...     dy = dy + unbroadcast(dmul_y * mul_x, y)
    ...     mul_y = mul_y_stack.pop()
    ...     dsin_x = dmul_x * 0.01
    ...     mul_x = mul_x_stack.pop()
    ...     dx = dx + dsin_x * np.cos(x)
    ... return (like(dx, x), like(dy, y))''')
    mul_x_stack = []
    x_stack = []
    mul_x = None
    mul_y = None
    for i in range(1000):
        sin_x = math.sin(x)
        mul_x_stack.append(mul_x)
        mul_x = 0.01 * sin_x
        mul_y = mul_x * y
        sub_x = x - mul_y
        x_stack.append(x)
        x = sub_x
    dx = dout
    dy = 0.0
    for i in reversed(range(1000)):
        x = x_stack.pop()
        dmul_y = -dx
        dmul_x = dmul_y * y
        dy = dy + dmul_y * mul_x
        dsin_x = dmul_x * 0.01
        mul_x = mul_x_stack.pop()
        dx = dx + dsin_x * math.cos(x)
    return (dx, dy)
"""

import builtins
import copy
import math

import gast
import numpy as np

from srcad import runtime
from srcad.builders import call, const, forwarding_call, name
from srcad.passes import copies, dead_code, shapes
from srcad.passes.shapes import stack_call, without_stacks
from srcad.trees import all_nodes, clone, loaded, map_children, name_nodes, parameters, statements, stored

FLOAT, INT, NONE = "float", "int", "None"

#: NumPy functions of one or two numbers -> the ``math`` (or builtin)
#: function that computes the same on Python floats, or raises where NumPy
#: would return nan or inf
TO_MATH = {
    np.sin: math.sin, np.cos: math.cos, np.tan: math.tan, np.arcsin: math.asin, np.arccos: math.acos,
    np.arctan: math.atan, np.sinh: math.sinh, np.cosh: math.cosh, np.tanh: math.tanh,
    np.arcsinh: math.asinh, np.arccosh: math.acosh, np.arctanh: math.atanh, np.exp: math.exp,
    np.expm1: math.expm1, np.log: math.log, np.log1p: math.log1p, np.log2: math.log2,
    np.log10: math.log10, np.sqrt: math.sqrt, np.arctan2: math.atan2, np.hypot: math.hypot,
    np.power: math.pow, np.abs: builtins.abs, np.fabs: math.fabs, np.sign: runtime.float_sign,
}

#: False: no float copies (the tests compare the copies with the generic code)
ENABLED = True

#: NumPy reductions: of one number, that number (as a float)
REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin}

#: ``math`` functions (and builtins) allowed as they are: what each returns
PURE = {**{getattr(math, f): FLOAT for f in (
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh",
    "atanh", "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "pow", "hypot", "fabs", "erf",
    "erfc", "gamma", "lgamma", "copysign", "degrees", "radians", "fmod")},
        **{getattr(math, f): INT for f in ("floor", "ceil", "trunc", "isnan", "isinf", "isfinite")},
        builtins.float: FLOAT, builtins.int: INT, builtins.bool: INT}

#: runtime helpers -> what they return on numbers: their first argument
#: (``first``), it as a float (``float``), or a constant; ``check_inputs``
#: passes every float and goes
ON_FLOATS = {runtime.unbroadcast: "first", runtime.shape_of: "first", runtime.check_scalar: "first",
             runtime.like: "float", runtime.repeat_to: "float", runtime.zeros_like: 0.0,
             runtime.reduced_count: 1, runtime.check_inputs: None}

_REMOVED = {*TO_MATH, *REDUCTIONS, *ON_FLOATS}

#: names the doctests resolve (generated code names them as the generator chose)
_DEMO_NAMES = {"np": np, "math": math, **{f.__name__: f for f in ON_FLOATS}, "Stack": runtime.Stack,
               "float": float, "range": range, "reversed": reversed, "type": type}


class _Refused(Exception):
    """Something in the body whose value on floats this pass cannot prove."""


def plan(fdef, resolve, ref):
    """The copy of the generated function ``fdef`` for Python-float
    arguments, planned: None when there is nothing to gain or it cannot be
    proved, else ``(params, write)``: the parameters the copy reads (those
    its guard tests) and a function of no arguments that writes the copy
    (named ``<name>_floats``).  ``resolve(expr)`` is the object a name or an
    attribute of generated code refers to (or None); ``ref(obj, wanted)``
    the name generated code uses for ``obj``.

    Deciding reads ``fdef`` and changes nothing; the pipeline writes the
    copy at the first call on floats (copying and compiling is most of the
    cost, and a gradient of arrays never needs it).  Until then ``fdef``'s
    statements must not change; statements put before them do not matter."""
    args = fdef.args
    if not ENABLED or args.vararg is not None or args.kwarg is not None:
        return None
    body, params = fdef.body, [a.id for a in parameters(args)]
    names = name_nodes([s for s in body if isinstance(s, gast.AST)])      # one walk for both
    rewriter = _inferred(body, params, resolve, ref, {n.id for n in names if type(n.ctx) is gast.Store})
    if rewriter is None:
        return None
    read = {n.id for n in names if type(n.ctx) is gast.Load}
    body, own_args = list(body), clone(args)   # (kept until the copy is written)
    own_args.defaults, own_args.kw_defaults = [], [None] * len(own_args.kwonlyargs)
    shell = copy.copy(fdef)                   # the def without its statements
    shell.body = shell.args = None

    def write():
        spec = copy.copy(shell)
        spec.name, spec.args = shell.name + "_floats", own_args
        spec.body = _specialised(rewriter, clone(body))
        return spec
    return [p for p in params if p in read], write


def specialise_body(body, params, resolve=None, ref=None):
    """A new body: ``body``'s statements on Python-float ``params``, or None
    (see :func:`plan`); ``body`` is left alone."""
    resolve = resolve or resolver(_DEMO_NAMES.get)
    rewriter = _inferred(body, params, resolve, ref or (lambda obj, wanted: wanted),
                         stored([s for s in body if isinstance(s, gast.AST)]))
    return _specialised(rewriter, clone(body)) if rewriter is not None else None


def _inferred(body, params, resolve, ref, bound):
    """The :class:`_Rewriter` that knows what every name of ``body`` holds
    (``bound``: the names it binds), or None where that cannot be proved or
    the copy would gain nothing."""
    rewriter = _Rewriter(params, without_locals(resolve, bound | set(params)), ref)
    try:
        rewriter.infer(body)
        return rewriter if rewriter.gains(body) else None
    except _Refused:
        return None


def _specialised(rewriter, body):
    """``body`` (a copy: rewritten in place) on floats, cleaned up.  The
    rewriter has inferred every kind and checked every type test
    (:meth:`_Rewriter.gains`), so the rewriting refuses nothing."""
    body = rewriter.rewrite(body)
    body = _drop_shape_stacks(body, rewriter.stacks)
    try:
        _forget_float_raises(body, rewriter)
    except _Refused:
        pass
    _drop_copies_back(body)
    body = copies.propagate_copies(body)
    return dead_code.eliminate_dead_code(body)


_DISPATCH_NOTE = ("on Python floats: this code with math, written at the first such call "
                  "(if math raises, the code below)")


def dispatch(fdef, spec_name, params, ref):
    """Put first in ``fdef`` the call of its float copy ``spec_name`` for
    float arguments ``params``, falling through to the generic code where
    ``math`` raised (its answer is NumPy's)."""
    kind = ref(type, "type")
    test = gast.Compare(left=call(name(kind), name(params[0])), ops=[gast.Is()] * len(params),
                        comparators=[call(name(kind), name(p)) for p in params[1:]] + [name(ref(float, "float"))])
    spec_call = forwarding_call(spec_name, fdef.args)
    errors = gast.Tuple(elts=[name(ref(e, e.__name__)) for e in (ValueError, OverflowError, ZeroDivisionError)],
                        ctx=gast.Load())
    attempt = gast.Try(body=[gast.Return(value=spec_call)],
                       handlers=[gast.ExceptHandler(type=errors, name=None, body=[gast.Pass()])],
                       orelse=[], finalbody=[])
    from srcad.reverse import Comment
    stmt = gast.If(test=test, body=[attempt], orelse=[])
    note = Comment(_DISPATCH_NOTE)
    stmt.srcad_no_origin = stmt.srcad_dispatch = note.srcad_dispatch = True   # (passes.arrays skips them)
    fdef.body[:0] = [note, stmt]


def without_locals(resolve, local):
    """``resolve`` that knows nothing of the names in ``local`` (the body's
    own: they are not the user's globals, and looking them up in the user's
    namespace would record what it found there)."""
    return lambda expr: None if type(expr) is gast.Name and expr.id in local else resolve(expr)


def resolver(lookup):
    """``resolve(expr)``: the object a name (``lookup(name)``, None if
    unbound) or a dotted attribute of generated code refers to, or None."""
    def resolve(expr):
        if isinstance(expr, gast.Name):
            return lookup(expr.id)
        if isinstance(expr, gast.Attribute):
            base = resolve(expr.value)
            return getattr(base, expr.attr, None) if base is not None else None
        return None
    return resolve


class _Rewriter:
    """What every name of a body holds on float parameters (:meth:`infer`),
    then the body written for those values (:meth:`rewrite`)."""

    def __init__(self, params, resolve, ref):
        self.kinds = {p: {FLOAT} for p in params}
        self.resolve, self.ref = resolve, ref
        self.stacks = {}            # stack name -> kinds of what it holds

    # -- what each name holds ----------------------------------------------------
    def infer(self, body):
        """Bind every name to the kinds it may hold, to a fixpoint (the
        inference ignores order: a loop's value may come from any iteration)."""
        self.looped = False
        while True:
            before = {n: set(k) for n, k in self.kinds.items()}
            stacks = {n: set(k) for n, k in self.stacks.items()}
            self._bind(body)
            if not self.looped or (before == self.kinds and stacks == self.stacks):
                return      # without loops every name is bound before it is read: one pass

    def _bind(self, stmts):
        for stmt in stmts:
            if not isinstance(stmt, gast.AST):
                continue
            kind = type(stmt)
            if kind is gast.Assign:
                if len(stmt.targets) != 1 or type(stmt.targets[0]) is not gast.Name:
                    raise _Refused
                self._join(stmt.targets[0].id, self._value_kinds(stmt.value, stmt.targets[0].id))
            elif kind is gast.AugAssign:
                if type(stmt.target) is not gast.Name:
                    raise _Refused
                target = stmt.target.id
                self._join(target, _arithmetic(stmt.op, self.kinds.get(target, set()), self.of(stmt.value)))
            elif kind is gast.Expr:
                self._effect(stmt.value)
            elif kind is gast.For:
                if type(stmt.target) is not gast.Name:
                    raise _Refused
                self.looped = True
                self._range(stmt.iter)
                self._join(stmt.target.id, {INT})
                self._bind(stmt.body), self._bind(stmt.orelse)
            elif kind in (gast.If, gast.While):
                self.looped |= kind is gast.While
                if self._type_test(stmt.test) is None:
                    self.of(stmt.test)
                self._bind(stmt.body), self._bind(stmt.orelse)
            elif kind is gast.Return:
                if stmt.value is not None:
                    self._returned(stmt.value)
            elif kind not in (gast.Pass, gast.Break, gast.Continue):
                raise _Refused

    def _returned(self, value):
        """A returned value: numbers, or tuples of them (value_and_grad's pair)."""
        if type(value) is gast.Tuple:
            for item in value.elts:
                self._returned(item)
        else:
            self.of(value)

    def _join(self, target, kinds):
        self.kinds.setdefault(target, set()).update(kinds)

    def _value_kinds(self, value, target):
        """The kinds of an assigned value; a stack's constructor and pops too."""
        if type(value) is gast.Call and not value.args and not value.keywords:
            if self.resolve(value.func) is runtime.Stack:
                self.stacks.setdefault(target, set())
                return set()
            stack = self._method(value, "pop")
            if stack is not None:
                return set(self.stacks[stack])
        return self.of(value)

    def _method(self, value, attr):
        """The stack whose method ``attr`` the call ``value`` calls, or None."""
        found = stack_call(value)
        return found[0] if found is not None and found[1] == attr and found[0] in self.stacks else None

    def _effect(self, value):
        """A call made for its effect: a push, or a check that floats pass."""
        if type(value) is not gast.Call:
            raise _Refused
        stack = self._method(value, "push")
        if stack is not None and len(value.args) == 1 and not value.keywords:
            self.stacks[stack].update(self.of(value.args[0]))
            return
        if self.resolve(value.func) not in (runtime.check_inputs, runtime.check_scalar):
            raise _Refused
        for arg in value.args:
            self.of(arg)

    def _range(self, iterator):
        """A ``range(...)`` or ``reversed(range(...))`` of integers, or refused."""
        if type(iterator) is gast.Call and self.resolve(iterator.func) is reversed and len(iterator.args) == 1:
            iterator = iterator.args[0]
        if type(iterator) is not gast.Call or self.resolve(iterator.func) is not range or iterator.keywords \
                or any(self.of(a) - {INT} for a in iterator.args):
            raise _Refused

    def _type_test(self, test):
        """``(name, negated)`` for ``type(name) is [not] float``, else None."""
        if type(test) is gast.Compare and len(test.ops) == 1 and type(test.ops[0]) in (gast.Is, gast.IsNot) \
                and type(test.left) is gast.Call and self.resolve(test.left.func) is type \
                and len(test.left.args) == 1 and type(test.left.args[0]) is gast.Name \
                and self.resolve(test.comparators[0]) is float:
            return test.left.args[0].id, type(test.ops[0]) is gast.IsNot
        return None

    def of(self, expr):
        """The kinds ``expr`` may have (an empty set: not known yet)."""
        kind = type(expr)
        if kind is gast.Name:
            if expr.id not in self.kinds:
                raise _Refused            # a global or a cell: it may change between calls
            return self.kinds[expr.id]
        if kind is gast.Constant:
            value = expr.value
            if value is None:
                return {NONE}
            if type(value) in (bool, int):
                return {INT}
            if type(value) is float:
                return {FLOAT}
            raise _Refused
        if kind is gast.BinOp:
            return _arithmetic(expr.op, self.of(expr.left), self.of(expr.right))
        if kind is gast.UnaryOp:
            inner = self.of(expr.operand)
            return {INT} if type(expr.op) is gast.Not else inner - {NONE}
        if kind is gast.Compare:
            for part in [expr.left, *expr.comparators]:
                self.of(part)
            return {INT}
        if kind is gast.BoolOp:
            return set().union(*(self.of(v) for v in expr.values))
        if kind is gast.IfExp:
            self.of(expr.test)
            return self.of(expr.body) | self.of(expr.orelse)
        if kind is gast.Call:
            return self._call_kinds(expr)
        if kind is gast.Attribute:
            value = self.resolve(expr)
            if type(value) is float:       # np.pi, math.e: module constants
                return {FLOAT}
        raise _Refused

    def _call_kinds(self, expr):
        func = self.resolve(expr.func)
        if expr.keywords or func is None:
            raise _Refused
        args = [self.of(a) for a in expr.args]
        if any(a - {FLOAT, INT, NONE} for a in args):
            raise _Refused
        if func in TO_MATH:
            return {INT} if func is np.abs and all(a <= {INT} for a in args) else {FLOAT}
        if func in REDUCTIONS and len(args) == 1:
            return {FLOAT}
        if func in PURE:
            return {PURE[func]}
        if func in (abs, min, max):
            return set().union(*args) - {NONE}
        if func in ON_FLOATS:
            effect = ON_FLOATS[func]
            if effect == "first":
                return args[0] if args else set()
            return {FLOAT} if effect == "float" or type(effect) is float else {INT}
        raise _Refused

    # -- what the copy gains ---------------------------------------------------------
    def gains(self, stmts):
        """Whether the copy of ``stmts`` makes fewer NumPy or helper calls
        (if not, a guard would cost what the copy saves), read where
        :meth:`rewrite` will write; refused where it will refuse."""
        found = False
        for stmt in stmts:
            kind = type(stmt)
            if kind in (gast.If, gast.While):
                test = self._type_test(stmt.test)
                if test is not None:
                    if self.kinds[test[0]] != {FLOAT}:
                        raise _Refused
                    found |= self.gains(stmt.orelse if test[1] else stmt.body)
                    continue
                inner = self.gains(stmt.body) | self.gains(stmt.orelse)     # both: their type tests
                found = found or inner or self._removed(stmt.test)
            elif kind is gast.For:
                found |= self.gains(stmt.body) | self.gains(stmt.orelse)
            elif found:
                continue            # (only the type tests above are still to check)
            elif kind is gast.Expr:
                if self.resolve(stmt.value.func) not in (runtime.check_inputs, runtime.check_scalar):
                    found = any(self._removed(a) for a in stmt.value.args)
            elif kind in (gast.Assign, gast.AugAssign, gast.Return) and stmt.value is not None:
                found = self._removed(stmt.value)
        return found

    def _removed(self, expr):
        """Whether ``expr`` makes a call the copy writes as ``math`` or as what it returns."""
        return any(type(node) is gast.Call and self.resolve(node.func) in _REMOVED for node in all_nodes([expr]))

    # -- the body on floats ----------------------------------------------------------
    def rewrite(self, stmts):
        out = []
        for stmt in stmts:
            if not isinstance(stmt, gast.AST):
                out.append(stmt)
                continue
            kind = type(stmt)
            if kind in (gast.If, gast.While):
                test = self._type_test(stmt.test)
                if test is not None:
                    held, negated = self.kinds[test[0]], test[1]
                    if held != {FLOAT}:
                        raise _Refused
                    out += self.rewrite(stmt.orelse if negated else stmt.body)
                    continue
                stmt.test = self.expr(stmt.test)
                stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
            elif kind is gast.For:
                stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
            elif kind is gast.Expr:
                if self.resolve(stmt.value.func) in (runtime.check_inputs, runtime.check_scalar):
                    continue          # (a check on floats costs little: no gain)
                stmt.value.args = [self.expr(a) for a in stmt.value.args]
            elif kind in (gast.Assign, gast.AugAssign, gast.Return) and stmt.value is not None:
                stmt.value = self.expr(stmt.value)
            out.append(stmt)
        return out

    def expr(self, node):
        """``node`` written for the kinds :meth:`infer` found."""
        kind = type(node)
        if kind is gast.Call:
            return self._call(node)
        if kind is gast.BinOp:
            # (the kinds of the operands as inferred, before they are rewritten)
            power = type(node.op) is gast.Pow and not _int_constant(node.right) \
                and FLOAT in self.of(node.left) | self.of(node.right)
            node.left, node.right = self.expr(node.left), self.expr(node.right)
            if power:
                # a negative float to a fractional power is complex in Python
                # (nan in NumPy); math.pow raises ValueError instead
                return call(self._math("pow"), node.left, node.right)
            return node
        return map_children(node, self.expr)

    def _call(self, node):
        if self._method(node, "pop") is not None:
            return node
        func = self.resolve(node.func)
        if func is runtime.Stack:
            return node
        args = [self.expr(a) for a in node.args]
        if func in TO_MATH:
            target = TO_MATH[func]
            fname = self._math(target.__name__) if target.__module__ == "math" else \
                name(self.ref(target, target.__name__))
            return call(fname, *args)
        if func in REDUCTIONS:
            return self._as_float(args[0])
        if func in ON_FLOATS:
            effect = ON_FLOATS[func]
            if effect == "first":
                return args[0]
            if effect == "float":
                return self._as_float(args[0])
            return const(effect)
        node.args = args
        return node

    def _math(self, attr):
        return gast.Attribute(value=name(self.ref(math, "math")), attr=attr, ctx=gast.Load())

    def _as_float(self, node):
        """``node`` as a Python float: as it is where it is one."""
        if isinstance(node, gast.Constant) and type(node.value) is float:
            return node
        if isinstance(node, gast.Name) and self.kinds.get(node.id) == {FLOAT}:
            return node
        return call(name(self.ref(float, "float")), node)


def _arithmetic(op, left, right):
    """The kinds of ``left op right``: ints stay ints, anything with a float
    is a float, a division is one (``None`` raises: no kind)."""
    left, right = left - {NONE}, right - {NONE}
    if not left or not right:
        return set()
    kind = type(op)
    if kind in (gast.BitAnd, gast.BitOr, gast.BitXor, gast.LShift, gast.RShift, gast.MatMult):
        raise _Refused
    if kind is gast.Div:
        return {FLOAT}
    out = {FLOAT} if FLOAT in left | right else set()
    if INT in left and INT in right:
        out |= {INT, FLOAT} if kind is gast.Pow else {INT}
    return out


def _int_constant(node):
    return type(node) is gast.Constant and type(node.value) is int


def _drop_shape_stacks(body, stacks):
    """Without the stacks whose pops nothing reads any more (they held the
    shapes ``unbroadcast`` read); the others become lists.  A stack goes when
    the forward sweep pushes names onto it (no effect to keep) and the reverse
    sweep only pops it, into names it does not read."""
    start = shapes.reverse_start(body)
    if start is None or not stacks:
        return body
    forward, reverse = body[:start], body[start:]
    read, dead = loaded(reverse), set(stacks)
    for node in all_nodes(forward):
        found = stack_call(node)
        if found is not None and found[1] == "push" and not (len(node.args) == 1 and type(node.args[0]) is gast.Name):
            dead.discard(found[0])
    for node in all_nodes(reverse):
        if type(node) is gast.Assign:
            found = stack_call(node.value)
            if found is not None and node.targets[0].id in read:
                dead.discard(found[0])
        else:
            found = stack_call(node)
            if found is not None and found[1] == "push":
                dead.discard(found[0])
    body = without_stacks(body, dead)
    for node in all_nodes(body):
        found = stack_call(node)
        if found is not None and found[1] == "push" and found[0] in stacks:
            node.func.attr = "append"
        elif type(node) is gast.Assign and type(node.targets[0]) is gast.Name and node.targets[0].id in stacks \
                and stack_call(node.value) is None:
            node.value = gast.List(elts=[], ctx=gast.Load())      # Stack(): a list's methods are faster
    return body


def _drop_copies_back(stmts):
    """Without ``b = a`` where ``a = b`` came before it in the same block and
    neither was bound in between (``dsub_x = dx; dx = unbroadcast(dsub_x, x)``
    on floats), in place."""
    copied = {}                                 # a -> b for a live copy a = b
    keep = []
    for stmt in stmts:
        if isinstance(stmt, gast.AST):
            for field in ("body", "orelse"):
                if isinstance(getattr(stmt, field, None), list):
                    _drop_copies_back(getattr(stmt, field))
        pair = _copy_pair(stmt)
        if pair is not None and copied.get(pair[1]) == pair[0]:
            continue
        if isinstance(stmt, gast.AST):
            bound = stored([stmt])
            copied = {a: b for a, b in copied.items() if a not in bound and b not in bound}
            if type(stmt) in (gast.For, gast.While, gast.If):
                copied = {}
            if pair is not None:
                copied[pair[0]] = pair[1]
        keep.append(stmt)
    stmts[:] = keep


def _copy_pair(stmt):
    """``(a, b)`` for ``a = b``, else None."""
    if type(stmt) is gast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is gast.Name \
            and type(stmt.value) is gast.Name:
        return stmt.targets[0].id, stmt.value.id
    return None


def _forget_float_raises(body, rewriter):
    """Unmark ``srcad_may_raise`` on what cannot raise on numbers (``+``, ``-``,
    ``*``, a name), so dead code can drop it: on floats ``g = p * z`` is
    computed for nothing."""
    for node in (n for stmt in body if isinstance(stmt, gast.AST) for n in statements(stmt)):
        if type(node) is gast.Assign and getattr(node, "srcad_may_raise", False) \
                and _cannot_raise(node.value, rewriter):
            node.srcad_may_raise = False


def _cannot_raise(expr, rewriter):
    kind = type(expr)
    if kind is gast.Name:
        return True
    if kind is gast.Constant:
        return True
    if kind is gast.BinOp:
        return type(expr.op) in (gast.Add, gast.Sub, gast.Mult) \
            and NONE not in rewriter.of(expr.left) | rewriter.of(expr.right) \
            and _cannot_raise(expr.left, rewriter) and _cannot_raise(expr.right, rewriter)
    if kind is gast.UnaryOp:
        return NONE not in rewriter.of(expr.operand) and _cannot_raise(expr.operand, rewriter)
    return False
