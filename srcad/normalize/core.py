"""The A-normal form core: statements, assignments, atoms and calls; the
normalizer's other parts are mixed in from their own modules."""

import copy

import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.trees import all_nodes, name_nodes, stored, walk
from srcad.normalize.fence import (UNSUPPORTED_EXPRESSIONS, UNSUPPORTED_STATEMENTS, _refused_target,
                                   check_signature, refuse)
from srcad.normalize.names import OPERATOR_NAMES, _first_local, assigned_names, param_names
from srcad.normalize.containers import Containers
from srcad.normalize.loops import Loops
from srcad.normalize.sugar import Sugar


class Normalizer(Loops, Sugar, Containers):
    """Rewrites a parsed function into A-normal form (see the module docstring)."""

    def __init__(self, parsed, names, callee=False):
        """``parsed.node`` has been fenced, lifted and structured already
        (srcad/pipeline.py runs those stages); ``names`` is the allocator the
        structuring pass used, so no name it handed out is handed out again."""
        self.parsed = parsed
        self.callee = callee             # called from a transformed function: *args allowed
        self.source = parsed.source
        self.fdef = parsed.node          # freshly parsed for this transformation
        self.names = names
        self.locals = assigned_names(self.fdef)
        self.version = {p: p for p in param_names(self.fdef)}
        self.in_compound = _names_assigned_in_compound(self.fdef)
        self.out = []
        self._loop_test = []
        self._literals = {}              # name -> the tuple/list/dict literal it holds

    # -- entry point -------------------------------------------------------
    def run(self):
        check_signature(self.parsed, self.callee)
        body = list(self.fdef.body)
        if body and _is_docstring(body[0]):
            body = body[1:]
        for stmt in body:
            self.statement(stmt)
        if not self.out or not isinstance(self.out[-1], gast.Return):
            self._emit(gast.Return(value=gast.Constant(value=None, kind=None)), self.fdef)
        fdef = gast.FunctionDef(
            name=self.fdef.name, args=self.fdef.args, body=self.out,
            decorator_list=[], returns=None, type_comment=None, type_params=[])
        return gast.copy_location(fdef, self.fdef)

    # -- statements --------------------------------------------------------
    def statement(self, stmt):
        kind = type(stmt)
        refuse(self.source, UNSUPPORTED_STATEMENTS, stmt)
        method = getattr(self, "visit_" + kind.__name__, None)
        if method is None:
            raise self.source.error(
                UnsupportedSyntaxError,
                f"srcad cannot differentiate a {kind.__name__} statement", stmt,
                hint="rewrite this statement with assignments and function calls")
        outer, self._stmt = getattr(self, "_stmt", None), stmt
        try:
            method(stmt)
        finally:
            self._stmt = outer if outer is not None else stmt

    def visit_Pass(self, stmt):
        pass

    def visit_Break(self, stmt):
        self._emit(gast.Break(), stmt)

    def visit_Continue(self, stmt):
        for pre in copy.deepcopy(self._loop_test[-1] if self._loop_test else []):
            self.out.append(pre)
        self._emit(gast.Continue(), stmt)

    def visit_If(self, stmt):
        test = self.atom(stmt.test)
        body = self.block(stmt.body)
        orelse = self.block(stmt.orelse)
        self._branch(test, body, orelse, stmt)

    def _branch(self, test, body, orelse, origin):
        """Emit ``if test``; the reverse sweep re-tests ``test`` after the
        branch has run, so a test variable the branch reassigns is copied."""
        if isinstance(test, gast.Name) and test.id in stored(body + orelse):
            test = self._assign_new(f"{test.id}_test", test)
        self._emit(gast.If(test=test, body=body, orelse=orelse), origin)

    def _builtin(self, func):
        if isinstance(func, gast.Name) and func.id not in self.locals:
            found = self.parsed.namespace.lookup(func.id, None)
            if found in (range, enumerate, zip, reversed):
                return found
        return None

    def _call_builtin(self, fname, args, origin):
        func = gast.Name(id=fname, ctx=gast.Load(), annotation=None, type_comment=None)
        return gast.copy_location(gast.Call(func=func, args=list(args), keywords=[]), origin)

    def block(self, stmts):
        """Normalize a nested statement list into a new list."""
        saved, self.out = self.out, []
        try:
            for stmt in stmts:
                self.statement(stmt)
            return self.out
        finally:
            self.out = saved

    def capture(self, fn):
        """Run ``fn`` collecting the statements it emits; return (stmts, result)."""
        saved, self.out = self.out, []
        try:
            result = fn()
            return self.out, result
        finally:
            self.out = saved

    def visit_Expr(self, stmt):
        if isinstance(stmt.value, gast.Constant):
            return                                   # a string used as a comment
        if self._formats_text(stmt.value):           # print(f"loss {loss:.3f}")
            self._emit(gast.Expr(value=self._versioned(stmt.value)), stmt)
            return
        self._emit(gast.Expr(value=self.rhs(stmt.value)), stmt)

    @staticmethod
    def _formats_text(value):
        """A call made for its effect whose arguments build text with f-strings
        (``print(f"{i}: {loss:.3f}")``, ``log.info(f"...")``): it is kept as
        written, since it computes nothing the derivative needs (the graph still
        checks the call is a harmless effect).  Not when it holds a construct
        whose own names would need renaming (a comprehension, a lambda)."""
        if not isinstance(value, gast.Call):
            return False
        nodes = list(gast.walk(value))
        return any(isinstance(n, gast.JoinedStr) for n in nodes) and not any(
            isinstance(n, (gast.ListComp, gast.GeneratorExp, gast.DictComp, gast.SetComp, gast.Lambda,
                           gast.NamedExpr, gast.Yield, gast.YieldFrom, gast.Await, gast.Starred))
            for n in nodes)

    def _versioned(self, expr):
        """A copy of ``expr`` whose local names read their current versions."""
        expr = copy.deepcopy(expr)
        for node in gast.walk(expr):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in self.locals:
                node.id = self._read(node).id
        return expr

    def visit_Assert(self, stmt):
        test = self.atom(stmt.test)
        msg = self.atom(stmt.msg) if stmt.msg is not None else None
        self._emit(gast.Assert(test=test, msg=msg), stmt)

    def visit_Raise(self, stmt):
        exc = self.rhs(stmt.exc) if stmt.exc is not None else None
        self._emit(gast.Raise(exc=exc, cause=None), stmt)

    def visit_Return(self, stmt):
        value = stmt.value if stmt.value is not None else gast.Constant(value=None, kind=None)
        if isinstance(value, gast.Name) and value.id in self.locals:
            atom = self.atom(value)
        elif _is_static(value, self.locals) or isinstance(value, (gast.IfExp, gast.BoolOp)):
            atom = self.atom(value)
        else:
            atom = self._assign_new("out", value)
        self._emit(gast.Return(value=atom), stmt)

    def visit_AnnAssign(self, stmt):
        if stmt.value is None:
            return
        self._assign(stmt.target, stmt.value)

    def visit_Assign(self, stmt):
        if len(stmt.targets) == 1:
            self._assign(stmt.targets[0], stmt.value)
            return
        value = self.atom(stmt.value)                # a = b = expr
        for target in stmt.targets:
            self._assign(target, value)

    def visit_AugAssign(self, stmt):
        target = stmt.target
        if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
            load = gast.Subscript(value=target.value, slice=target.slice, ctx=gast.Load())
        elif isinstance(target, gast.Name):
            load = gast.Name(id=target.id, ctx=gast.Load(), annotation=None, type_comment=None)
        else:
            self._refuse_target(target)
        gast.copy_location(load, target)
        value = gast.copy_location(gast.BinOp(left=load, op=stmt.op, right=stmt.value), stmt)
        old = self.version.get(target.id) if isinstance(target, gast.Name) else None
        self._assign(target, value)
        if old is not None:
            # `v *= 2` updates an array in place: the alias analysis (srcad.alias)
            # checks that no other name still refers to the old v
            self.out[-1].srcad_augmented = old

    # -- assignment --------------------------------------------------------
    def _assign(self, target, value):
        if isinstance(target, gast.Name):
            rhs = self.rhs(value)
            self._emit_assign(target.id, rhs)
        elif isinstance(target, (gast.Tuple, gast.List)):
            self._unpack(target, value)
        elif isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
                and target.value.id in self.locals:
            self._setitem(target, value)
        else:
            self._refuse_target(target)

    def _setitem(self, target, value):
        """``x[i] = v`` stays an in-place update; the graph sees a new ``x``."""
        index = self._index(target.slice)
        atom = self.atom(value)
        base = self._read(target.value)
        new = gast.Subscript(value=base, slice=index, ctx=gast.Store())
        self._emit(gast.Assign(targets=[gast.copy_location(new, target)], value=atom,
                               type_comment=None), self._stmt)

    def _unpack(self, target, value):
        if any(isinstance(e, gast.Starred) for e in target.elts):
            raise self.source.error(UnsupportedSyntaxError,
                                    "srcad cannot differentiate starred unpacking", target,
                                    hint="unpack the elements one by one")
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
            # a, b = b, a: evaluate every right-hand side before binding any name
            atoms = [self.atom(e) for e in value.elts]
            atoms = self._protect_swapped(target.elts, atoms)
            for elt, atom in zip(target.elts, atoms):
                self._assign(elt, atom)
            return
        whole = self.atom(value)
        for i, elt in enumerate(target.elts):
            index = gast.Constant(value=i, kind=None)
            item = gast.Subscript(value=whole, slice=index, ctx=gast.Load())
            self._assign(elt, gast.copy_location(item, value))

    def _protect_swapped(self, targets, atoms):
        """Copy the atoms an earlier target of the same unpacking overwrites.

        ``a, b = b, a`` binds ``a`` before it reads ``a`` for ``b``.  Names
        reassigned in straight-line code get a new version, so the old value
        survives under its old name; but a name also assigned in a loop or a
        branch keeps one name (``in_compound``), and ``a = b; b = a`` would
        read the new ``a``.  Such an atom is first copied (``a_old = a``).
        """
        out, written = [], set()
        for target, atom in zip(targets, atoms):
            if isinstance(atom, gast.Name) and atom.id in written:
                atom = self._assign_new_rhs(f"{atom.id}_old", atom)
            out.append(atom)
            written |= {n.id for n in gast.walk(target) if isinstance(n, gast.Name)
                        and isinstance(n.ctx, gast.Store) and n.id in self.in_compound}
        return out

    def _refuse_target(self, target):
        message, hint = _refused_target(target)
        raise self.source.error(UnsupportedSyntaxError, message, target, hint=hint)

    def _emit_assign(self, user_name, rhs):
        if user_name in self.in_compound and not isinstance(rhs, gast.Name) \
                and user_name in {n.id for n in gast.walk(rhs) if isinstance(n, gast.Name)}:
            # x = f(x) in a loop or branch: the reverse sweep reads the old x
            # while the new one exists, so the new value gets a name first.
            base = self._describe(rhs) if not isinstance(rhs, gast.Name) else user_name
            rhs = self._assign_new_rhs(base, rhs)
        if user_name in self.in_compound or user_name not in self.version:
            name = user_name
            self.names.reserve(name)
        else:
            name = self.names.fresh(f"{user_name}_1")
        self.version[user_name] = name
        self._remember_literal(name, rhs)
        target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
        self._emit(gast.Assign(targets=[target], value=rhs, type_comment=None), self._stmt)

    def _assign_new(self, base, value):
        """ANF ``value`` into a new temporary named after ``base``; return its Name."""
        return self._assign_new_rhs(base, self.rhs(value))

    def _assign_new_rhs(self, base, rhs):
        """Bind an already-normalized right-hand side to a new temporary."""
        name = self.names.fresh(base)
        self._remember_literal(name, rhs)
        target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
        self._emit(gast.Assign(targets=[target], value=rhs, type_comment=None), self._stmt)
        return self._load(name, rhs)

    def _emit(self, stmt, origin):
        gast.copy_location(stmt, origin)
        compound = isinstance(origin, (gast.If, gast.For, gast.While))
        stmt.end_lineno = stmt.lineno if compound else getattr(origin, "end_lineno", stmt.lineno)
        self.out.append(stmt)

    # -- expressions -------------------------------------------------------
    def atom(self, expr):
        """``expr`` as an atom, emitting statements for its parts as needed."""
        if isinstance(expr, gast.Name):
            return self._read(expr)
        if _is_static(expr, self.locals):
            return expr
        self._refuse_expression(expr)
        if isinstance(expr, (gast.IfExp, gast.BoolOp)):
            return self.rhs(expr)             # already a temporary of its own
        return self._assign_new(self._describe(expr), expr)

    def rhs(self, expr):
        """``expr`` as a single primitive application over atoms."""
        self._refuse_expression(expr)
        if isinstance(expr, gast.Name):
            return self._read(expr)
        if _is_static(expr, self.locals):
            return expr
        new = getattr(self, "rhs_" + type(expr).__name__, None)
        if new is None:
            raise self.source.error(
                UnsupportedSyntaxError,
                f"srcad cannot differentiate a {type(expr).__name__} expression", expr,
                hint="rewrite it with arithmetic and function calls")
        return gast.copy_location(new(expr), expr)

    def rhs_BinOp(self, e):
        return gast.BinOp(left=self.atom(e.left), op=e.op, right=self.atom(e.right))

    def rhs_UnaryOp(self, e):
        return gast.UnaryOp(op=e.op, operand=self.atom(e.operand))

    def rhs_Compare(self, e):
        return gast.Compare(left=self.atom(e.left), ops=e.ops,
                            comparators=[self.atom(c) for c in e.comparators])

    def rhs_Call(self, e):
        literal = self._dict_call(e)
        if literal is not None:
            return literal
        func = e.func
        if isinstance(func, gast.Attribute) and not _is_static(func, self.locals):
            func = gast.copy_location(
                gast.Attribute(value=self.atom(func.value), attr=func.attr, ctx=gast.Load()), func)
        elif not _is_static(func, self.locals) and not isinstance(func, gast.Name) \
                and not self._is_static_transform(func):
            raise self.source.error(
                UnsupportedSyntaxError, "srcad cannot differentiate a call of a computed callee",
                func, hint="assign the function to a name first, or call it directly")
        args, keywords = self._call_arguments(e)
        zipped = self._zip_literal(func, args, keywords)
        if zipped is not None:
            return zipped
        return gast.Call(func=func, args=args, keywords=keywords)

    def _call_arguments(self, e):
        """The call's arguments as atoms; ``*t`` and ``**d`` are spread over
        the elements of the literal ``t`` or ``d`` holds (see :meth:`_spread`)."""
        args = []
        for a in e.args:
            if isinstance(a, gast.Starred):
                args.extend(self._spread(a.value, "seq"))
            else:
                args.append(self._call_arg(a))
        keywords = []
        for kw in e.keywords:
            if kw.arg is None:
                spread = self._spread(kw.value, "dict")
                keywords.extend(spread if isinstance(spread, list) else [spread])
            else:
                keywords.append(gast.keyword(arg=kw.arg, value=self._call_arg(kw.value)))
        return args, keywords

    def _is_static_transform(self, func):
        """``srcad.grad(h, wrt=1)`` (or value_and_grad, vjp, jvp) as a callee,
        with a global function and constants as its arguments: the graph makes
        the derivative when it transforms this function (graph._inline_transform)."""
        import srcad
        if not (isinstance(func, gast.Call) and _is_static(func.func, self.locals)):
            return False
        callee = self._static_object(func.func)
        if not any(callee is getattr(srcad, n) for n in ("grad", "value_and_grad", "vjp", "jvp")):
            return False
        parts = list(func.args) + [kw.value for kw in func.keywords]
        return all(kw.arg is not None for kw in func.keywords) and \
            all(_is_static(p, self.locals) for p in parts)

    def _static_object(self, expr):
        if isinstance(expr, gast.Name):
            return self.parsed.namespace.lookup(expr.id, None)
        if isinstance(expr, gast.Attribute):
            base = self._static_object(expr.value)
            return None if base is None else getattr(base, expr.attr, None)
        return None

    def _call_arg(self, arg):
        if isinstance(arg, (gast.Tuple, gast.List)) and not _is_static(arg, self.locals):
            # np.stack([a, b]): keep the literal, with atoms inside
            cls = type(arg)
            return gast.copy_location(cls(elts=self._display_elements(arg), ctx=gast.Load()), arg)
        return self.atom(arg)

    def rhs_Attribute(self, e):
        return gast.Attribute(value=self.atom(e.value), attr=e.attr, ctx=gast.Load())

    def rhs_Subscript(self, e):
        return gast.Subscript(value=self.atom(e.value), slice=self._index(e.slice), ctx=gast.Load())

    def _index(self, index):
        if isinstance(index, gast.Slice):
            parts = {k: (None if getattr(index, k) is None else self.atom(getattr(index, k)))
                     for k in ("lower", "upper", "step")}
            return gast.copy_location(gast.Slice(**parts), index)
        if isinstance(index, gast.Tuple):
            return gast.copy_location(
                gast.Tuple(elts=[self._index(x) for x in index.elts], ctx=gast.Load()), index)
        return self.atom(index)

    def _refuse_expression(self, expr):
        refuse(self.source, UNSUPPORTED_EXPRESSIONS, expr)

    def _read(self, name):
        if getattr(name, "srcad_resolved", False):
            return name
        if name.id in self.locals:
            if name.id not in self.version:
                raise self.source.error(
                    UnsupportedSyntaxError,
                    f"variable {name.id!r} is read before it is assigned", name,
                    hint="assign it before this line")
            return self._load(self.version[name.id], name)
        return name

    def _load(self, name, origin):
        node = gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)
        node.srcad_resolved = True
        return gast.copy_location(node, origin)

    def _describe(self, expr):
        """A readable base name for the temporary that will hold ``expr``."""
        root = _first_local(expr, self.locals)
        if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
            op = OPERATOR_NAMES.get(type(expr.op), "op")
        elif isinstance(expr, gast.Compare):
            op = OPERATOR_NAMES.get(type(expr.ops[0]), "cmp")
        elif isinstance(expr, gast.Call):
            func = expr.func
            op = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "call")
            if isinstance(func, gast.Name):         # act(x) with act a parameter: act_x
                root = _first_local(gast.Tuple(elts=list(expr.args) + [k.value for k in expr.keywords],
                                               ctx=gast.Load()), self.locals)
        elif isinstance(expr, gast.Subscript):
            index = expr.slice
            if isinstance(index, gast.Constant) and isinstance(index.value, int):
                return f"{root}{index.value}" if index.value >= 0 else f"{root}_m{-index.value}"
            if isinstance(index, gast.Name):
                return f"{root}_{index.id}"
            if isinstance(index, gast.Constant) and isinstance(index.value, str) \
                    and index.value.isidentifier():
                return f"{root}_{index.value}"             # params['W'] -> params_W
            return f"{root}_sub"
        elif isinstance(expr, gast.Attribute):
            return f"{root}_{expr.attr}"
        elif isinstance(expr, gast.IfExp):
            op = "ifexp"
        elif isinstance(expr, (gast.ListComp, gast.GeneratorExp)):
            op = "list"
        elif isinstance(expr, gast.BoolOp):
            op = "and" if isinstance(expr.op, gast.And) else "or"
        else:
            op = type(expr).__name__.lower()
        return f"{op}_{root}" if root else op


def _is_static(expr, local_names):
    """True when ``expr`` reads no local variable and calls nothing.

    Such expressions (``np.pi``, ``2 * SCALE``, ``-1``) stay inline as atoms:
    evaluating them again in the reverse sweep gives the same value.  A name
    the normalizer itself loaded (a temporary too, as in ``t[1]`` for the
    nested target of ``a, (b, c) = f(x)``) is local.
    """
    kind = type(expr)
    if kind is gast.Constant:                    # most atoms: no walk needed
        return True
    if kind is gast.Name:
        return not (expr.id in local_names or getattr(expr, "srcad_resolved", False))
    for node in walk(expr):
        if isinstance(node, gast.Name) and (node.id in local_names or getattr(node, "srcad_resolved", False)):
            return False
        if not isinstance(node, _STATIC_NODES):
            return False
    return True


_STATIC_NODES = (gast.Name, gast.Constant, gast.Attribute, gast.BinOp, gast.UnaryOp,
                 gast.Tuple, gast.Subscript, gast.Slice, gast.Load, gast.operator,
                 gast.unaryop, gast.expr_context)


def _is_docstring(stmt):
    return (isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Constant)
            and isinstance(stmt.value.value, str))


def _names_assigned_in_compound(fdef):
    """Names bound inside a branch or loop, or updated in place (``x[i] = v``):
    they keep one name (no versions)."""
    names = set()
    for n in all_nodes([fdef]):
        kind = type(n)
        if kind is gast.Subscript:
            if type(n.ctx) is gast.Store and type(n.value) is gast.Name:
                names.add(n.value.id)
        elif kind is gast.Call:                               # lists grown in place
            func = n.func
            if type(func) is gast.Attribute and func.attr == "append" \
                    and type(func.value) is gast.Name:
                names.add(func.value.id)
        elif kind in (gast.If, gast.For, gast.While):
            names |= {sub.id for sub in name_nodes(n) if type(sub.ctx) is gast.Store}
    return names


def normalize(parsed, callee=False):
    """The A-normal form of ``parsed.node`` (a new gast.FunctionDef), after
    the whole front end (fence, lift, structure: :func:`srcad.pipeline.front_end`);
    ``callee`` when it is called from a transformed function (see
    :func:`check_signature`)."""
    from srcad.pipeline import front_end      # the pipeline imports this module
    return front_end(parsed, callee)
