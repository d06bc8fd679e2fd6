"""What each name of a generated gradient holds on float64 arrays of known
shapes, and the gradient written for it (:mod:`srcad.passes.arrays`'s copies).

:class:`Kinds` infers, from the parameters' shapes and a table of NumPy's
shape rules, the kind of every name (an array of a shape and dtype, a NumPy
scalar, a Python float or int, or not known), then writes each runtime helper
whose operands it knows as what the helper does for them (srcad/runtime.py):

    >>> from srcad.passes import demo
    >>> from srcad.passes.arrays import specialise_body
    >>> demo(lambda body: specialise_body(body, {"W": ((3, 2), "f"), "b": ((2,), "f"),
    ...                                          "x": ((5, 3), "f"), "dout": FLOAT}), '''
    ... check_inputs(W, b)
    ... add_b = x @ W + b
    ... h = np.tanh(add_b)
    ... dh = repeat_to(dout / reduced_count(h, None), h, None, False)
    ... dadd_b = dh * (1.0 - h * h)
    ... db = unbroadcast(dadd_b, b)
    ... dW = matmul_adjoint_y(unbroadcast(dadd_b, add_b), x, W)
    ... return (like(dW, W), like(db, b))''')
    add_b = x @ W + b
    h = np.tanh(add_b)
    dh = dout / 10
    dadd_b = dh * (1.0 - h * h)
    db = dadd_b.sum(axis=0)
    dW = x.T @ dadd_b
    return (dW, db)

(the mean's cotangent ``dh`` is a scalar that broadcasting spreads;
``check_inputs`` passes float64 arrays).
"""

import gast
import numpy as np

from srcad import runtime
from srcad.builders import call, const, name
from srcad.passes.shapes import stack_call
from srcad.trees import all_nodes, map_children, name_nodes

F64 = np.dtype(np.float64)

#: kinds: ("a", shape, dtype char) an ndarray ("f" float64, "b" bool);
#: ("s", (), char) a NumPy scalar; FLOAT, INT Python numbers; ("shape", shape)
#: a shape tuple; None: not known.  _UNSET: not bound yet (the fixpoint's start).
FLOAT, INT = ("F", (), "f"), ("I", (), "i")
_UNSET = ("unset",)
#: ``None``: a loop's saved placeholder (``x = None`` before the loop, pushed
#: by the first iteration, popped back by the last reversed one, then not
#: read).  It joins as nothing, as in passes/floats.py: generated code reads
#: it only where the user's code would read a name before binding it.
NONE = ("N",)

#: NumPy functions of one array that keep its shape (float64 in, float64 out)
ELEMENTWISE = {np.tanh, np.exp, np.log, np.sin, np.cos, np.tan, np.sqrt, np.abs, np.absolute,
               np.fabs, np.log1p, np.expm1, np.negative, np.square, np.sinh, np.cosh, np.arcsin,
               np.arccos, np.arctan, np.arcsinh, np.arctanh, np.sign, np.log2, np.log10,
               np.reciprocal, np.positive, np.exp2, np.cbrt}
#: NumPy functions of two arrays that broadcast them
BROADCASTING = {np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.power, np.maximum,
                np.minimum, np.arctan2, np.hypot, np.logaddexp, np.logaddexp2}
REDUCTIONS = {np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod}
#: the same as methods of an ndarray, which skip the functions' dispatch (1 us)
_METHODS = {np.sum: "sum", np.mean: "mean", np.max: "max", np.min: "min", np.amax: "max",
            np.amin: "min", np.prod: "prod"}
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div)
#: the helpers a copy may write without: these (not the checks alone, which
#: cost less than the guard) are what makes a copy worth its guard
_GAINS = {runtime.unbroadcast, runtime.like, runtime.repeat_to, runtime.matmul_adjoint_x,
          runtime.matmul_adjoint_y}
_ROWS = {runtime.matmul_adjoint_x_rows, runtime.matmul_adjoint_y_rows}
_HELPERS = _GAINS | _ROWS | {runtime.check_inputs, runtime.reduced_count}


def attribute(param, attr):
    return gast.Attribute(value=name(param), attr=attr, ctx=gast.Load())


def _broadcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def _value(shape, char):
    """The kind of a NumPy result of ``shape``: a 0-d result is a NumPy scalar."""
    return ("s", (), char) if shape == () else ("a", shape, char)


def _numeric(kind):
    return kind is not None and kind is not _UNSET and kind[0] in "asFI"


def _floating(kind):
    return kind is not None and kind[0] in "asF" and kind[2] == "f"


class Kinds:
    """What every name of a body holds for the parameters' kinds
    (:meth:`infer`), then the body written for them (:meth:`rewrite`)."""

    def __init__(self, params, resolve, ref):
        self.params = {p: FLOAT if k == FLOAT else ("a", k[0], "f") for p, k in params.items()}
        self.resolve = lambda expr: hashable(resolve(expr))  # noqa: E731  (tables hold functions)
        self.ref = ref
        self.env = dict(self.params)
        self.pushed = {}            # stack name -> kind of what it holds
        self.pairs = {}             # (stack, stack) -> True: rows pushed in pairs only (_paired_stacks)
        self.streamed = {}          # OuterProducts written: its name -> (left stack, right stack)
        self.unknown = set()        # names bound otherwise than by `name = value`

    # -- what each name holds ----------------------------------------------------
    def infer(self, body):
        """Bind every name to the join of the kinds of all its assignments,
        to a fixpoint (flow-insensitive: a read may see any of them)."""
        while True:
            before, pushed = dict(self.env), dict(self.pushed)
            self._bind(body)
            if before == self.env and pushed == self.pushed:
                break
        for table in (self.env, self.pushed):      # never bound (a pop of an unpushed stack): not known
            table.update((k, None) for k, v in table.items() if v is _UNSET)

    def _bind(self, stmts):
        for stmt in stmts:
            kind = type(stmt)
            if kind is gast.Assign:
                target = stmt.targets[0]
                if len(stmt.targets) == 1 and type(target) is gast.Name:
                    self._join(target.id, self._assigned(stmt.value))
                else:
                    self._forget(stmt.targets)
            elif kind is gast.Expr:
                stack = _method(stmt.value, "push")
                if stack is not None:
                    old = self.pushed.get(stack, _UNSET)
                    self.pushed[stack] = _join(old, self.of(stmt.value.args[0]))
            elif kind is gast.For and type(stmt.target) is gast.Name and self._counts(stmt.iter):
                self._join(stmt.target.id, INT)
            elif kind in (gast.For, gast.AugAssign, gast.AnnAssign):
                self._forget([stmt.target])
            if kind in (gast.If, gast.For, gast.While):
                self._bind(stmt.body)
                self._bind(stmt.orelse)
            elif kind is gast.Try or kind is gast.With:
                self._forget([stmt])      # (generated code has neither; know nothing there)

    def _counts(self, iterator):
        """``range(...)`` or ``reversed(range(...))``: its items are ints."""
        if type(iterator) is gast.Call and self.resolve(iterator.func) is reversed and len(iterator.args) == 1:
            iterator = iterator.args[0]
        return type(iterator) is gast.Call and self.resolve(iterator.func) is range and not iterator.keywords

    def _forget(self, targets):
        for node in name_nodes(targets):
            if type(node.ctx) is gast.Store:
                self.unknown.add(node.id)
                self.env[node.id] = None

    def _join(self, target, kind):
        if target in self.unknown:
            return
        self.env[target] = _join(self.env.get(target, _UNSET), kind)

    def _assigned(self, value):
        stack = _method(value, "pop")
        if stack is not None:
            return self.pushed.get(stack, _UNSET)
        return self.of(value)

    def of(self, expr):
        """The kind of ``expr`` (None: not known; _UNSET: not bound yet)."""
        kind = type(expr)
        if kind is gast.Name:
            return self.env.get(expr.id)          # (a global or a cell: not known)
        if kind is gast.Constant:
            value = expr.value
            if value is None:
                return NONE
            return FLOAT if type(value) is float else INT if type(value) is int and type(value) is not bool else None
        if kind is gast.BinOp:
            return self._binop(expr.op, self.of(expr.left), self.of(expr.right))
        if kind is gast.UnaryOp:
            inner = self.of(expr.operand)
            if type(expr.op) in (gast.USub, gast.UAdd) and _floating(inner):
                return inner if inner[0] != "a" else _value(inner[1], "f")
            return _UNSET if inner is _UNSET else None
        if kind is gast.Compare:
            return self._compare(expr)
        if kind is gast.Attribute:
            return self._attribute(expr)
        if kind is gast.Subscript:
            base = self.of(expr.value)
            index = expr.slice
            if base is _UNSET:
                return _UNSET
            if base is not None and base[0] == "shape" and \
                    type(index) is gast.Constant and type(index.value) is int and \
                    -len(base[1]) <= index.value < len(base[1]):
                return INT
            if base is not None and base[0] == "a" and base[1] and self.of(index) == INT:
                return _value(base[1][1:], base[2])       # a row (IndexError where f has one)
            return None
        if kind is gast.Call:
            return self._call(expr)
        return None

    def _binop(self, op, left, right):
        if left is _UNSET or right is _UNSET:
            return _UNSET
        if not (_numeric(left) and _numeric(right)):
            return None
        kind = type(op)
        if kind is gast.MatMult:
            return _matmul(left, right)
        if kind not in _ARITHMETIC and kind is not gast.Pow:
            return None
        if left[0] in "FI" and right[0] in "FI":       # Python numbers: not this pass's
            return FLOAT if kind is not gast.Pow and FLOAT in (left, right) else None
        if not (_floating(left) or _floating(right)):
            return None             # bool and integer arrays: NumPy's rules for their dtypes
        shape = _broadcast(left[1], right[1])
        return None if shape is None else _value(shape, "f")

    def _compare(self, expr):
        if len(expr.ops) != 1 or type(expr.ops[0]) not in (gast.Eq, gast.NotEq, gast.Lt, gast.LtE, gast.Gt, gast.GtE):
            return None
        left, right = self.of(expr.left), self.of(expr.comparators[0])
        if left is _UNSET or right is _UNSET:
            return _UNSET
        if not (_numeric(left) and _numeric(right)) or (left[0] in "FI" and right[0] in "FI"):
            return None
        shape = _broadcast(left[1], right[1])
        return None if shape is None else _value(shape, "b")

    def _attribute(self, expr):
        base = self.of(expr.value)
        if base is _UNSET:
            return _UNSET
        if base is None or base[0] not in "as":
            return None
        if expr.attr == "shape":
            return ("shape", base[1])
        if expr.attr == "T" and base[0] == "a":
            return ("a", base[1][::-1], base[2])
        if expr.attr == "ndim":
            return INT
        return None

    def _call(self, expr):
        func = self.resolve(expr.func)
        if func is None:
            return None
        args = [self.of(a) for a in expr.args]
        keywords = {k.arg: k.value for k in expr.keywords}
        if _UNSET in args or any(self.of(v) is _UNSET for v in keywords.values()):
            return _UNSET
        if func in ELEMENTWISE:
            if len(args) == 1 and not keywords and _floating(args[0]):
                return _value(args[0][1], "f")
            return None
        if func in BROADCASTING or func is np.where:
            wanted = 3 if func is np.where else 2
            if len(args) != wanted or keywords or not all(_numeric(a) for a in args):
                return None
            values = args[1:] if func is np.where else args
            if not any(_floating(a) for a in values) or any(a[2] == "i" and a[0] != "I" for a in values):
                return None
            shape = _broadcast(*(a[1] for a in args))
            return None if shape is None else _value(shape, "f")
        if func in REDUCTIONS:
            return self._reduction(expr, args, keywords)
        if func in (runtime.stop_gradient, runtime.shape_of) and len(args) == 1 and not keywords:
            return args[0]          # (shape_of's Shape: what unbroadcast reads of an array)
        if func is len and len(args) == 1 and not keywords and _known_shape(args[0]) and args[0][1]:
            return INT
        return self._helper(func, expr, args)

    def _reduction(self, expr, args, keywords):
        """A reduction of a float64 array (or a sum of a bool one: an int64 array)."""
        func = self.resolve(expr.func)
        if len(args) != 1 or args[0] is None or args[0][0] not in "as" or set(keywords) - {"axis", "keepdims"}:
            return None
        char = args[0][2]
        if char == "b" and func is np.sum:
            char = "i"
        elif char != "f":
            return None
        axis = _constant(keywords.get("axis"), None)
        keepdims = _constant(keywords.get("keepdims"), False)
        shape = args[0][1]
        if axis is _UNSET or type(keepdims) is not bool:
            return None
        axes = range(len(shape)) if axis is None else (axis,) if type(axis) is int else axis
        try:
            axes = {a + len(shape) if a < 0 else a for a in axes}
        except TypeError:
            return None
        if not all(type(a) is int and 0 <= a < len(shape) for a in axes):
            return None
        if keepdims:
            return _value(tuple(1 if i in axes else n for i, n in enumerate(shape)), char)
        return _value(tuple(n for i, n in enumerate(shape) if i not in axes), char)

    def _helper(self, func, expr, args):
        """The kind of a runtime helper's result, where :meth:`_written`
        writes it without the helper (elsewhere: not known)."""
        written = self._written(func, expr, args)
        if written is not None:
            return written[1]
        if func is runtime.repeat_to and len(args) >= 2 and _floating(args[0]) and \
                _known_shape(args[1]) and args[1][1] != ():
            return ("a", args[1][1], "f")       # (kept: spread over x's shape, whatever the axes)
        return None

    def _written(self, func, expr, args):
        """``(how, kind)``: how to write the helper call ``expr`` without the
        helper, and the kind of its result; None to keep it."""
        if expr.keywords:
            return None
        if func is runtime.unbroadcast and len(args) == 2:
            return _unbroadcast(*args)
        if func in _ROWS and len(expr.args) == 3 and all(type(a) is gast.Name for a in expr.args):
            return self._products(func, [a.id for a in expr.args])
        if func is runtime.like and len(args) == 2 and type(expr.args[1]) is gast.Name:
            g, x = args
            param = self.params.get(expr.args[1].id)
            if param is not None and x == param and _floating(g) and g[0] == x[0] and g[1] == x[1]:
                return ("first", g)
            return None
        if func is runtime.repeat_to and len(expr.args) == 4:
            g, x = args[:2]
            if _floating(g) and g[0] in "sF" and x is not None and x[0] == "a" and x[1] != () and \
                    _is_none(expr.args[2]) and _is_false(expr.args[3]):
                return ("full", ("a", x[1], "f"))
            return None
        if func is runtime.reduced_count and len(expr.args) in (1, 2) and _known_shape(args[0]):
            axis = _constant(expr.args[1], None) if len(expr.args) == 2 else None
            shape = args[0][1]
            axes = range(len(shape)) if axis is None else (axis,) if type(axis) is int else axis
            if axis is _UNSET or not all(type(a) is int and -len(shape) <= a < len(shape) for a in axes):
                return None
            return (("count", max(1, int(np.prod([shape[a] for a in axes], dtype=np.int64)))), INT)
        if func in (runtime.matmul_adjoint_x, runtime.matmul_adjoint_y) and len(args) == 3:
            return _matmul_adjoint(func is runtime.matmul_adjoint_x, *args)
        return None

    # -- the body for these kinds ------------------------------------------------
    def rewrite(self, stmts):
        out = []
        for stmt in stmts:
            kind = type(stmt)
            if kind is gast.Expr and self._passes(stmt.value):
                continue
            if kind is gast.If:
                known = self._type_test(stmt.test)
                if known is not None:
                    out += self.rewrite(stmt.body if known else stmt.orelse)
                    continue
            if kind in (gast.If, gast.For, gast.While):
                stmt.body, stmt.orelse = self.rewrite(stmt.body), self.rewrite(stmt.orelse)
                if kind is not gast.For:
                    stmt.test = self.expr(stmt.test)
            elif kind in (gast.Assign, gast.Return, gast.Expr) and stmt.value is not None:
                stmt.value = self.expr(stmt.value)
            out.append(stmt)
        return out

    def _passes(self, value):
        """A check (``check_inputs``, ``check_scalar``) these kinds pass."""
        if type(value) is not gast.Call or value.keywords:
            return False
        func = self.resolve(value.func)
        kinds = [self.of(a) for a in value.args]
        if func is runtime.check_inputs:
            return all(_numeric(k) and k[2] == "f" for k in kinds)
        if func is runtime.check_scalar:
            return len(kinds) == 1 and kinds[0] is not None and kinds[0][0] in "sF" and kinds[0][2] == "f"
        return False

    def _type_test(self, test):
        """``type(v) is [not] float`` for a ``v`` of known kind: its value."""
        if type(test) is gast.Compare and len(test.ops) == 1 and type(test.ops[0]) in (gast.Is, gast.IsNot) \
                and type(test.left) is gast.Call and self.resolve(test.left.func) is type \
                and len(test.left.args) == 1 and self.resolve(test.comparators[0]) is float:
            held = self.of(test.left.args[0])
            if held is None or held is _UNSET or held[0] not in "asFI":
                return None
            return (held == FLOAT) != (type(test.ops[0]) is gast.IsNot)
        return None

    def expr(self, node):
        """``node`` written for the kinds :meth:`infer` found (the kinds of
        its operands read before they are rewritten)."""
        kind = type(node)
        if kind is gast.Call:
            func = self.resolve(node.func)
            if func in _METHODS and len(node.args) == 1 and self._reduced(node) is not None:
                node = gast.Call(func=gast.Attribute(value=node.args[0], attr=_METHODS[func], ctx=gast.Load()),
                                 args=[], keywords=node.keywords)
                return self.expr(node)
            args = [self.of(a) for a in node.args] if func in _HELPERS else None
            written = self._written(func, node, args) if args is not None else None
            node.args = [self.expr(a) for a in node.args]
            for kw in node.keywords:
                kw.value = self.expr(kw.value)
            return node if written is None else self._without_helper(written[0], node, args)
        return map_children(node, self.expr)

    def _products(self, func, names):
        """``matmul_adjoint_x_rows(gs, W, ys)`` (or ``_y_rows(gs, xs, W)``) of
        1-D rows whose stacks are only pushed, in pairs: written as the sum of
        an :class:`srcad.runtime.OuterProducts` that contracts the rows as
        they come (``(("products", acc, W), kind)``)."""
        if func is runtime.matmul_adjoint_x_rows:                # (gs, W, ys): sum outer(g, y)
            stacks, weight = (names[0], names[2]), names[1]
        else:                                                    # (gs, xs, W): sum outer(x, g)
            stacks, weight = (names[1], names[0]), names[2]
        pair = self.pairs.get(tuple(sorted(stacks)))
        left, right = (self.pushed.get(n) for n in stacks)
        w = self.env.get(weight)
        if pair is None or weight in self.unknown or not all(
                k is not None and k is not _UNSET and k[0] == "a" and k[2] == "f" for k in (left, right, w)) \
                or len(left[1]) != 1 or len(right[1]) != 1 or w[1] != (left[1][0], right[1][0]):
            return None
        return (("products", names[0], stacks, weight), w)

    def stream_products(self, body):
        """The stacks of the rows an :class:`OuterProducts` sums (see
        :meth:`_products`) made one: ``gs = OuterProducts()``, the pushes its
        ``left``/``right``, the other stack gone."""
        if not self.streamed:
            return body
        role = {}
        for acc, (lefts, rights) in self.streamed.items():
            role[lefts], role[rights] = (acc, "left"), (acc, "right")

        def walk(stmts):
            out = []
            for stmt in stmts:
                kind = type(stmt)
                if kind is gast.Assign and type(stmt.targets[0]) is gast.Name and stmt.targets[0].id in role:
                    acc, _ = role[stmt.targets[0].id]
                    if stmt.targets[0].id == acc:
                        stmt.value = call(name(self.ref(runtime.OuterProducts, "OuterProducts")))
                        out.append(stmt)
                    continue
                if kind is gast.Expr and (_method(stmt.value, "push") or "") in role:
                    acc, side = role[_method(stmt.value, "push")]
                    stmt.value.func = gast.Attribute(value=name(acc), attr=side, ctx=gast.Load())
                if kind in (gast.If, gast.For, gast.While):
                    stmt.body, stmt.orelse = walk(stmt.body), walk(stmt.orelse)
                out.append(stmt)
            return out
        return walk(body)

    def _reduced(self, node):
        """The kind of a reduction ``node`` of an array (None: not one)."""
        arg = self.of(node.args[0])
        return self._call(node) if arg is not None and arg is not _UNSET and arg[0] == "a" else None

    def _without_helper(self, how, node, args):
        if how == "first":
            return node.args[0]
        if how[0] == "count":
            return const(how[1])
        if how[0] == "products":          # gs.total(W.shape)
            _, acc, stacks, weight = how
            self.streamed[acc] = stacks
            return gast.Call(func=gast.Attribute(value=name(acc), attr="total", ctx=gast.Load()),
                             args=[attribute(weight, "shape")], keywords=[])
        np_name = name(self.ref(np, "np"))
        if how == "full":
            shape = const(args[1][1])
            return call(gast.Attribute(value=np_name, attr="full", ctx=gast.Load()), shape, node.args[0])
        if how in ("@T", "T@"):         # g @ y.T, x.T @ g
            g, other = node.args[0], node.args[2 if how == "@T" else 1]
            t = gast.Attribute(value=other, attr="T", ctx=gast.Load())
            pair = (g, t) if how == "@T" else (t, g)
            return gast.BinOp(left=pair[0], op=gast.MatMult(), right=pair[1])
        if how == "outer":
            return call(gast.Attribute(value=np_name, attr="outer", ctx=gast.Load()), node.args[0], node.args[2])
        lead, keep = how                # unbroadcast: sums over axes (g.sum: an ndarray's)
        value = node.args[0]
        if type(value) is gast.UnaryOp and type(value.op) is gast.USub:    # -g: negate the sum
            return gast.UnaryOp(op=gast.USub(), operand=self._without_helper(
                how, call(node.func, value.operand, node.args[1]), args))
        total = lambda v, axes, keepdims: gast.Call(  # noqa: E731
            func=gast.Attribute(value=v, attr="sum", ctx=gast.Load()), args=[],
            keywords=([gast.keyword(arg="axis", value=const(axes if len(axes) != 1 else axes[0]))]
                      if axes is not None else [])
            + ([gast.keyword(arg="keepdims", value=const(True))] if keepdims else []))
        if lead == "all":
            return total(value, None, False)
        if lead:
            value = total(value, lead, False)
        if keep:
            value = total(value, keep, True)
        return value

    def spread_scalars(self, body):
        """``d = np.full(shape, g)`` -> ``d = g`` where ``d`` is bound once in
        ``body`` and every read of it is inside arithmetic whose result has
        the same shape when ``d`` is the scalar ``g`` (``d * 2 * Y``):
        broadcasting spreads ``g`` as the full array would, elementwise the
        same numbers."""
        parents = {}
        for node in _all(body):
            for child in gast.iter_child_nodes(node):
                parents[id(child)] = node
        for stmt in [n for n in _all(body) if type(n) is gast.Assign]:
            value = stmt.value
            if type(value) is not gast.Call or getattr(value.func, "attr", None) != "full" or \
                    len(value.args) != 2 or type(value.args[0]) is not gast.Constant or \
                    type(stmt.targets[0]) is not gast.Name:
                continue
            scalar = self.of(value.args[1])
            if scalar is not None and scalar is not _UNSET and scalar[0] in "sF" and \
                    self._spreads(stmt.targets[0].id, scalar, body, parents):
                stmt.value = value.args[1]
                self.env[stmt.targets[0].id] = scalar   # (what later spreads must see)

    def _spreads(self, target, scalar, body, parents):
        names = [n for n in name_nodes(body) if n.id == target]
        if sum(1 for n in names if type(n.ctx) is gast.Store) != 1:
            return False
        full = self.env.get(target)
        for use in (n for n in names if type(n.ctx) is gast.Load):
            top = use
            while type(parents.get(id(top))) in (gast.BinOp, gast.UnaryOp) and \
                    type(parents[id(top)].op) in (*_ARITHMETIC, gast.USub, gast.UAdd):
                top = parents[id(top)]
            if top is use:
                return False
            as_full = self.of(top)
            self.env[target] = scalar
            try:
                as_scalar = self.of(top)
            finally:
                self.env[target] = full
            if as_full is None or as_full is _UNSET or as_full != as_scalar or as_full[0] != "a":
                return False
        return True


def _all(stmts):
    return all_nodes([s for s in stmts if isinstance(s, gast.AST)])


def hashable(obj):
    """``obj``, or None where it cannot be looked up in a table (an array)."""
    try:
        hash(obj)
    except TypeError:
        return None
    return obj


def _join(old, new):
    if old is _UNSET or old == NONE:
        return new
    if new is _UNSET or new == NONE or old == new:
        return old
    return None


def _method(value, attr):
    """The stack name ``s`` of a call ``s.push(...)`` or ``s.pop()`` (``attr``), else None."""
    found = stack_call(value)
    return found[0] if found is not None and found[1] == attr else None


def _constant(node, default):
    if node is None:
        return default
    if type(node) is gast.Constant:
        return node.value
    if type(node) is gast.Tuple and all(type(e) is gast.Constant for e in node.elts):
        return tuple(e.value for e in node.elts)
    return _UNSET


def _known_shape(kind):
    """An array or NumPy scalar (of a known shape)."""
    return kind is not None and kind is not _UNSET and kind[0] in "as"


def _is_none(node):
    return type(node) is gast.Constant and node.value is None


def _is_false(node):
    return type(node) is gast.Constant and node.value is False


def _matmul(left, right):
    if left[0] not in "as" or right[0] not in "as" or left[2] != "f" or right[2] != "f":
        return None
    a, b = left[1], right[1]
    if len(a) == 2 and len(b) == 2 and a[1] == b[0]:
        return _value((a[0], b[1]), "f")
    if len(a) == 2 and len(b) == 1 and a[1] == b[0]:
        return _value((a[0],), "f")
    if len(a) == 1 and len(b) == 2 and a[0] == b[0]:
        return _value((b[1],), "f")
    if len(a) == 1 and len(b) == 1 and a[0] == b[0]:
        return _value((), "f")
    return None


def _matmul_adjoint(of_x, g, x, y):
    """``matmul_adjoint_x/y(g, x, y)`` for a 2-D ``x`` (runtime.py's fast
    cases): ``g @ y.T`` or ``np.outer(g, y)``; ``x.T @ g``."""
    if not all(k is not None and k[0] == "a" and k[2] == "f" for k in (g, x, y)) or len(x[1]) != 2:
        return None
    if len(y[1]) == 2 and g[1] == (x[1][0], y[1][1]):
        return ("@T", ("a", x[1], "f")) if of_x else ("T@", ("a", y[1], "f"))
    if len(y[1]) == 1 and g[1] == (x[1][0],):
        return ("outer", ("a", x[1], "f")) if of_x else ("T@", ("a", y[1], "f"))
    return None


def _unbroadcast(g, x):
    """How ``unbroadcast(g, x)`` sums a float64 ``g`` down to ``x``'s shape
    (``"first"``: it is ``g``; ``(lead, keep)``: the leading axes summed,
    then the length-1 axes of ``x`` summed keeping them), and the kind it
    returns.  As srcad/runtime.py does: a Python float ``g`` is returned as
    it is; a Python-number ``x`` takes the sum of an array ``g``."""
    if not _floating(g) or x is None or x is _UNSET or x[0] not in "asFI":
        return None
    if g[0] == "F":
        return ("first", g)
    if x[0] in "FI":
        return ("first", g) if g[0] == "s" else (("all", ()), ("s", (), "f"))
    if g[1] == x[1]:
        return ("first", g)
    gs, xs = g[1], x[1]
    extra = len(gs) - len(xs)
    if g[0] != "a" or extra < 0 or _broadcast(gs, xs) != gs:
        return None
    if not xs:
        return (("all", ()), ("s", (), "f"))
    keep = tuple(i for i, n in enumerate(xs) if n == 1 and gs[extra + i] != 1)
    lead = tuple(range(extra))
    return ((lead, keep), _value(xs, "f"))
