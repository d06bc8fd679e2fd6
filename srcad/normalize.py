"""Stage 2, normalize: A-normal form, one primitive per statement.

Before::

    def f(x, W, b):
        h = np.tanh(x @ W + b)
        h += 1.0
        return np.sum(h ** 2)

After::

    def f(x, W, b):
        matmul_x = x @ W
        add_b = matmul_x + b
        h = np.tanh(add_b)
        h_1 = h + 1.0
        pow_h = h_1 ** 2
        out = np.sum(pow_h)
        return out

Every statement applies one primitive to *atoms* (names, constants, and
static expressions such as ``np.pi`` that read no local variable and call
nothing).  Augmented assignments are expanded; a variable assigned again in
straight-line code gets a new version name (``h_1``) so that no value the
reverse sweep needs is overwritten.  Variables assigned inside a branch or a
loop keep their name: the reverse generator saves what they overwrite.
Temporaries are named after the operation and the first user variable the
expression reads (``add_b``: ``matmul_x`` is a temporary, not the user's).
Each new statement keeps the location of the user statement it comes from,
so the reverse sweep can quote that line.

Nested functions are first lifted out of the body into callees of their own
(srcad/lift.py), so the normalizer never sees a ``def`` or a named lambda.

This is also the language fence: any construct not handled here is refused by
name, with its location, instead of being passed on half-understood.
"""

import builtins
import copy
import keyword

import gast

from srcad.errors import UnsupportedSyntaxError
from srcad.builders import assign as _assign_stmt
from srcad.structure import attach
from srcad.trees import name_nodes, parameters, statements, stored, walk

#: binary and unary operator names, used for temporaries and by the graph.
OPERATOR_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow",
    gast.MatMult: "matmul", gast.LShift: "lshift", gast.RShift: "rshift",
    gast.BitOr: "or", gast.BitXor: "xor", gast.BitAnd: "and",
    gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert",
    gast.Eq: "eq", gast.NotEq: "ne", gast.Lt: "lt", gast.LtE: "le",
    gast.Gt: "gt", gast.GtE: "ge", gast.Is: "is", gast.IsNot: "isnot",
    gast.In: "in", gast.NotIn: "notin",
}

#: statements srcad refuses, with the hint shown to the user.
UNSUPPORTED_STATEMENTS = {
    gast.Try: ("a try statement", "move the try/except outside the differentiated function"),
    gast.With: ("a with statement", "move the with block outside the differentiated function"),
    gast.AsyncWith: ("an async with statement", "differentiate synchronous code only"),
    gast.AsyncFor: ("an async for loop", "differentiate synchronous code only"),
    gast.AsyncFunctionDef: ("an async function", "differentiate synchronous code only"),
    gast.Global: ("a global statement", "pass the value in as an argument and return the result"),
    gast.Nonlocal: ("a nonlocal statement", "pass the value in as an argument and return the result"),
    gast.ClassDef: ("a class definition", "define the class outside the differentiated function"),
    gast.Delete: ("a del statement", "let the variable go out of scope instead of deleting it"),
    gast.Import: ("an import statement", "import at module level"),
    gast.ImportFrom: ("an import statement", "import at module level"),
}
if hasattr(gast, "Match"):
    UNSUPPORTED_STATEMENTS[gast.Match] = ("a match statement", "rewrite it with if/elif/else")
if hasattr(gast, "TryStar"):
    UNSUPPORTED_STATEMENTS[gast.TryStar] = ("a try statement", "move the try/except outside the differentiated function")

UNSUPPORTED_EXPRESSIONS = {
    gast.Yield: ("yield", "srcad differentiates functions, not generators"),
    gast.YieldFrom: ("yield from", "srcad differentiates functions, not generators"),
    gast.Await: ("await", "differentiate synchronous code only"),
    gast.Lambda: ("a lambda expression here", "bind the lambda to a name at the top level of the "
                                              "function's body (g = lambda t: ...) and call it"),
    gast.SetComp: ("a set comprehension", "write the loop out with a for statement"),
    gast.NamedExpr: ("an assignment expression (:=)", "assign with a separate statement"),
    gast.Starred: ("a starred expression", "pass the elements explicitly"),
    gast.Set: ("a set display", "use a tuple or a list"),
    gast.JoinedStr: ("an f-string", "build strings outside the differentiated function"),
}

_RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins))


class NameAllocator:
    """Hands out readable names that clash with nothing the function uses."""

    def __init__(self, taken):
        self.taken = set(taken) | _RESERVED
        self._next = {}             # base -> the suffix to try first (no rescans)

    def fresh(self, base):
        """``base``, or ``base_2``, ``base_3``, ... : the first that is free.

        The suffix to try next is remembered per base, so handing out the
        k-th ``sin_x`` costs O(1), not O(k): transformation time stays linear
        in the function's length.

        >>> names = NameAllocator({"x", "x_2"})
        >>> [names.fresh("x") for _ in range(3)]
        ['x_3', 'x_4', 'x_5']
        """
        base = base.strip("_") or "t"
        if not base.isidentifier() or keyword.iskeyword(base):
            base = "t_" + base
        n = self._next.get(base, 1)
        name = base if n == 1 else f"{base}_{n}"
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self._next[base] = n + 1
        self.taken.add(name)
        return name

    def reserve(self, name):
        self.taken.add(name)

    def snapshot(self):
        """The allocator's state, for :meth:`restore` after a discarded trial."""
        return set(self.taken), dict(self._next)

    def restore(self, state):
        taken, following = state
        self.taken, self._next = set(taken), dict(following)


def assigned_names(fdef):
    """Names the function binds: parameters and assignment targets."""
    return {n.id for n in name_nodes(fdef) if type(n.ctx) in (gast.Store, gast.Param)}


def all_names(fdef):
    return {n.id for n in name_nodes(fdef)}


def param_names(fdef):
    return [a.id for a in parameters(fdef.args)]


class Normalizer:
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
        self._refuse(UNSUPPORTED_STATEMENTS, stmt)
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

    def visit_For(self, stmt):
        header, element = self._iteration(stmt)
        self.version[header.target.id] = header.target.id
        self._loop_test.append([])
        body = self.block(element + list(stmt.body))
        self._loop_test.pop()
        loop = gast.For(target=header.target, iter=header.iter, body=body, orelse=[],
                        type_comment=None)
        self._emit(loop, stmt)

    def visit_While(self, stmt):
        pre, test = self.capture(lambda: self.atom(stmt.test))
        self.out.extend(pre)
        self._loop_test.append(pre)
        body = self.block(stmt.body)
        self._loop_test.pop()
        if pre:
            body = attach(body, copy.deepcopy(pre))   # recompute the test on every path
        self._emit(gast.While(test=test, body=body, orelse=[]), stmt)

    def _iteration(self, stmt):
        """Every for loop becomes ``for i in range(...)`` plus element reads.

        ``for row in X`` -> ``for i in range(len(X)): row = X[i]``, so that the
        reverse sweep can replay the iterations backwards with the same index
        and the adjoint of ``X`` gathers the adjoints of its rows.
        """
        target, it = stmt.target, stmt.iter
        func = it.func if isinstance(it, gast.Call) else None
        kind = self._builtin(func)
        assigned_in_body = {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name)
                            and isinstance(n.ctx, gast.Store)}
        if kind is range and not it.keywords and isinstance(target, gast.Name):
            args = [self._loop_bound(a, assigned_in_body) for a in it.args]
            return _Header(target, self._range(args, it)), []
        if kind is enumerate and len(it.args) == 1 and isinstance(target, gast.Tuple) \
                and len(target.elts) == 2 and isinstance(target.elts[0], gast.Name):
            source = self._dict_source(it.args[0], stmt)
            if source is not None:        # for i, (k, v) in enumerate(d.items())
                d, view, order = source
                return self._dict_iteration(stmt, target.elts[1], view,
                                            self._loop_bound(d, assigned_in_body), order,
                                            index=target.elts[0])
            seq = self._loop_bound(it.args[0], assigned_in_body)
            index = target.elts[0]
            return (_Header(index, self._range([self._len(seq, it)], it)),
                    [self._element(target.elts[1], seq, index.id, stmt)])
        if kind is zip and any(isinstance(a, gast.Starred) for a in it.args):
            it = self._zip_spread(it, target)
        if kind is zip and it.args and not it.keywords and isinstance(target, gast.Tuple) \
                and len(target.elts) == len(it.args):
            seqs = [self._loop_bound(self._listed_view(a), assigned_in_body) for a in it.args]
            index = self._index_name(stmt)
            lengths = [self._len(q, it) for q in seqs]
            n = lengths[0] if len(lengths) == 1 else self._call_builtin("min", lengths, it)
            return (_Header(index, self._range([n], it)),
                    [self._element(t, q, index.id, stmt) for t, q in zip(target.elts, seqs)])
        if kind is reversed and len(it.args) == 1:
            seq = self._loop_bound(it.args[0], assigned_in_body)
            index = self._index_name(stmt)
            last = self._assign_new("last", gast.BinOp(left=self._len(seq, it), op=gast.Sub(),
                                                       right=gast.Constant(value=1, kind=None)))
            bounds = [last, gast.Constant(value=-1, kind=None), gast.Constant(value=-1, kind=None)]
            return _Header(index, self._range(bounds, it)), [self._element(target, seq, index.id, stmt)]
        source = self._dict_source(it, stmt)
        if source is not None:
            d, view, order = source
            return self._dict_iteration(stmt, target, view, self._loop_bound(d, assigned_in_body), order)
        seq = self._loop_bound(it, assigned_in_body)
        index = self._index_name(stmt)
        return _Header(index, self._range([self._len(seq, it)], it)), [self._element(target, seq, index.id, stmt)]

    def _zip_spread(self, it, target=None):
        """``zip(*pairs)`` in a loop header with the elements of ``pairs`` spread.

        When ``pairs`` is not a literal srcad can see (``zip(*unpack(params))``,
        as autograd's gmm example writes it) but the loop unpacks ``n`` names
        and ``zip`` has no other argument, each step's tuple has ``n`` elements,
        so ``pairs`` holds ``n`` sequences: ``pairs[0]``, ..., ``pairs[n - 1]``
        (read like the elements of ``a, b = pairs``)."""
        if (target is not None and isinstance(target, gast.Tuple) and len(it.args) == 1
                and isinstance(it.args[0], gast.Starred) and not it.keywords
                and not any(isinstance(e, gast.Starred) for e in target.elts)):
            value = it.args[0].value
            literal = self._literal_of(value)
            if literal is None or literal[0] != "seq":
                whole = self.atom(value)
                args = [self._assign_new(f"{_identifier_of(whole)}_{i}", gast.copy_location(
                    gast.Subscript(value=whole, slice=gast.Constant(value=i, kind=None), ctx=gast.Load()),
                    value)) for i in range(len(target.elts))]
                return gast.copy_location(gast.Call(func=it.func, args=args, keywords=[]), it)
        args = []
        for a in it.args:
            if not isinstance(a, gast.Starred):
                args.append(a)
                continue
            spread = self._spread(a.value, "seq")
            if any(isinstance(x, gast.Starred) for x in spread):
                raise self.source.error(
                    UnsupportedSyntaxError, f"srcad cannot loop over zip(*{_text(a.value)}): "
                    f"it cannot tell how many sequences {_text(a.value)} holds", a,
                    hint=f"build {_text(a.value)} in this function as a list or tuple literal, "
                         "or pass the sequences to zip explicitly")
            args.extend(spread)
        return gast.copy_location(gast.Call(func=it.func, args=args, keywords=it.keywords), it)

    def _dict_iteration(self, stmt, target, view, d, order="list", index=None):
        """``for k, v in d.items()`` -> ``keys_d = list(d.keys())``, then
        ``for i in range(len(keys_d)): k = keys_d[i]; v = d[k]``.  The keys
        are constants; each value is read like any other entry, so the adjoint
        of ``d`` gathers the adjoints of the values.  ``order`` is ``"sorted"``
        for ``sorted(d.items())`` (items sort by their unique keys); ``index``
        is the counter of ``enumerate(d.items())``, which becomes the loop's."""
        root = d.id if isinstance(d, gast.Name) else "d"
        it = stmt.iter
        keys_view = self._assign_new(f"{root}_keys", gast.copy_location(gast.Call(
            func=gast.Attribute(value=d, attr="keys", ctx=gast.Load()), args=[], keywords=[]), it))
        keys = self._assign_new(f"keys_{root}", self._call_builtin(order, [keys_view], it))
        index = index if index is not None else self._index_name(stmt)
        if view == "keys":
            key_target, value_target = target, None
        elif view == "values":
            key_target, value_target = None, target
        elif isinstance(target, gast.Tuple) and len(target.elts) == 2:
            key_target, value_target = target.elts
        else:
            raise self.source.error(UnsupportedSyntaxError, "srcad needs `for key, value in d.items()`",
                                    target, hint="unpack each item into two names")
        if not isinstance(key_target, gast.Name):
            key = gast.Name(id=self._compound_temp(f"key_{root}"), ctx=gast.Store(), annotation=None,
                            type_comment=None)
            element = [self._element(gast.copy_location(key, stmt), keys, index.id, stmt)]
            if key_target is not None:
                element.append(_assign_target(key_target, self._load(key.id, stmt), stmt))
        else:
            key = key_target
            element = [self._element(key, keys, index.id, stmt)]
        if value_target is not None:
            entry = gast.Subscript(value=d, slice=self._load(key.id, stmt), ctx=gast.Load())
            element.append(_assign_target(value_target, gast.copy_location(entry, stmt), stmt))
        return _Header(index, self._range([self._len(keys, it)], it)), element

    def _listed_view(self, expr):
        """``list(d.keys())`` for a dict view zipped with something (a view
        cannot be indexed by the loop)."""
        if _dict_view(expr, self.locals) is not None:
            return gast.copy_location(self._call_builtin("list", [expr], expr), expr)
        return expr

    def _dict_source(self, it, stmt):
        """``(d, view, order)`` when the loop iterates a dict's keys, values or
        items: ``d.items()`` and the like, ``sorted(d)``, ``sorted(d.items())``,
        ``sorted(d.keys())``, or ``d`` itself when the function shows that ``d``
        is a dict (:meth:`_is_dict_like`).  None otherwise."""
        view = _dict_view(it, self.locals)
        if view is not None:
            return it.func.value, view, "list"
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals \
                and self.parsed.namespace.lookup(it.func.id, None) is sorted \
                and len(it.args) == 1 and not it.keywords:
            inner = it.args[0]
            view = _dict_view(inner, self.locals)
            if view in ("keys", "items"):
                return inner.func.value, view, "sorted"
            if self._is_dict_like(inner, stmt):
                return inner, "keys", "sorted"
            return None
        if self._is_dict_like(it, stmt):
            return it, "keys", "list"
        return None

    def _is_dict_like(self, d, stmt):
        """``for k in d`` iterates keys when ``d`` is a dict, which the loop
        cannot tell from a list by its syntax.  Decided from how the function
        uses ``d``: the loop indexes ``d`` by its own variable (``d[k]``), the
        function reads ``d["W"]`` with a string key, calls a dict method on ``d`` (``d.items()``, ``.keys()``,
        ``.values()``, ``.get()``), builds ``d`` as a dict (a literal, a
        comprehension, ``dict(...)``), or annotates the parameter as one."""
        if not (isinstance(d, gast.Name) and d.id in self.locals):
            return False
        key = stmt.target.id if isinstance(stmt.target, gast.Name) else None
        for node in gast.walk(stmt):
            if isinstance(node, gast.Subscript) and _is_name(node.value, d.id) and key is not None \
                    and _is_name(node.slice, key):
                return True
        for node in gast.walk(self.fdef):
            if isinstance(node, gast.Attribute) and _is_name(node.value, d.id) \
                    and node.attr in ("items", "keys", "values", "get"):
                return True
            if isinstance(node, gast.Subscript) and _is_name(node.value, d.id) \
                    and isinstance(node.slice, gast.Constant) and isinstance(node.slice.value, str):
                return True                  # d["W"]: a string key
            if isinstance(node, gast.Assign) and any(_is_name(t, d.id) for t in node.targets) \
                    and self._builds_dict(node.value):
                return True
        for arg in parameters(self.fdef.args):
            if arg.id == d.id and arg.annotation is not None:
                text = _text(arg.annotation)
                return text.split("[")[0].split(".")[-1] in ("dict", "Dict", "Mapping", "MutableMapping")
        return False

    def _builds_dict(self, value):
        if isinstance(value, (gast.Dict, gast.DictComp)):
            return True
        return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
            and value.func.id not in self.locals and self.parsed.namespace.lookup(value.func.id, None) is dict

    def _builtin(self, func):
        if isinstance(func, gast.Name) and func.id not in self.locals:
            found = self.parsed.namespace.lookup(func.id, None)
            if found in (range, enumerate, zip, reversed):
                return found
        return None

    def _loop_bound(self, expr, assigned_in_body):
        """An atom evaluated once before the loop that the loop cannot change."""
        atom = self.atom(expr)
        if isinstance(atom, gast.Name) and atom.id in assigned_in_body:
            return self._assign_new(f"{atom.id}_start", atom)
        return atom

    def _len(self, seq, origin):
        root = seq.id if isinstance(seq, gast.Name) else "seq"
        return self._assign_new(f"len_{root}", self._call_builtin("len", [seq], origin))

    def _call_builtin(self, fname, args, origin):
        func = gast.Name(id=fname, ctx=gast.Load(), annotation=None, type_comment=None)
        return gast.copy_location(gast.Call(func=func, args=list(args), keywords=[]), origin)

    def _range(self, args, origin):
        return self._call_builtin("range", args, origin)

    def _index_name(self, stmt):
        name = self.names.fresh("i")
        self.locals.add(name)
        self.in_compound.add(name)
        node = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
        return gast.copy_location(node, stmt)

    def _element(self, target, seq, index, stmt):
        load = gast.Name(id=index, ctx=gast.Load(), annotation=None, type_comment=None)
        item = gast.copy_location(gast.Subscript(value=seq, slice=load, ctx=gast.Load()), stmt)
        return _assign_target(target, item, stmt)

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

    def _zip_literal(self, func, args, keywords):
        """``zip(a, b)`` of tuple or list literals (``zip(*pairs)`` too) as
        the list of tuples it yields, so each element's derivative is followed;
        None for any other call."""
        if keywords or not args or self._builtin(func) is not zip:
            return None
        parts = []
        for atom in args:
            literal = self._literal_of(atom) if isinstance(atom, gast.Name) else None
            if literal is None or literal[0] != "seq":
                return None
            parts.append(literal[1])
        rows = [self._assign_new_rhs("zip_row", gast.Tuple(elts=[copy.deepcopy(p[i]) for p in parts],
                                                           ctx=gast.Load()))
                for i in range(min(len(p) for p in parts))]
        return gast.List(elts=rows, ctx=gast.Load())

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

    def _spread(self, value, kind):
        """``f(*t)``: the atoms of the tuple or list literal ``t`` was
        assigned in straight-line code (or a literal written in the call);
        ``f(**d)``: keywords from a dict literal with constant string keys.
        Otherwise the length is unknown here: the call keeps ``*t`` (or
        ``**d``), fine while it carries no derivative (``rs.randn(*shape)``);
        the graph refuses it where it does."""
        literal = self._literal_of(value)
        if kind == "seq" and literal is not None and literal[0] == "seq":
            return list(literal[1])
        if kind == "dict" and literal is not None and literal[0] == "dict":
            return [gast.keyword(arg=k, value=v) for k, v in literal[1]]
        atom = self.atom(value)
        if kind == "seq":
            return [gast.copy_location(gast.Starred(value=atom, ctx=gast.Load()), value)]
        return gast.keyword(arg=None, value=atom)

    def _literal_of(self, value):
        """``("seq", atoms)`` or ``("dict", [(key, atom)])`` for a literal, or a
        name bound to one that is still current, else None."""
        if isinstance(value, (gast.Tuple, gast.List)) and not any(isinstance(x, gast.Starred)
                                                                 for x in value.elts):
            return "seq", [self._call_arg(x) for x in value.elts]
        if isinstance(value, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                                for k in value.keys):
            return "dict", [(k.value, self._call_arg(v)) for k, v in zip(value.keys, value.values)]
        if isinstance(value, gast.Name) and getattr(value, "srcad_resolved", False):
            return self._literals.get(value.id)        # already read: its version's name
        if isinstance(value, gast.Name) and value.id in self.locals and value.id in self.version:
            return self._literals.get(self.version[value.id])
        return None

    def _remember_literal(self, name, rhs):
        """Record ``name = (a, b)`` / ``{'k': v}`` for :meth:`_spread`, when
        ``name`` and every element keep their value (straight-line names)."""
        if name in self.in_compound:
            return
        if isinstance(rhs, (gast.Tuple, gast.List)):
            parts = list(rhs.elts)
        elif isinstance(rhs, gast.Dict) and all(isinstance(k, gast.Constant) and isinstance(k.value, str)
                                                for k in rhs.keys):
            parts = list(rhs.values)
        else:
            return
        if any(n.id in self.in_compound for p in parts for n in name_nodes(p)):
            return
        if isinstance(rhs, gast.Dict):
            self._literals[name] = ("dict", [(k.value, v) for k, v in zip(rhs.keys, rhs.values)])
        else:
            self._literals[name] = ("seq", parts)

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

    def rhs_IfExp(self, e):
        """``a if c else b`` -> an if statement that assigns one temporary."""
        test = self.atom(e.test)
        name = self._compound_temp(self._describe(e))
        body = self.block([_assign_stmt(name, e.body, e)])
        orelse = self.block([_assign_stmt(name, e.orelse, e)])
        self._branch(test, body, orelse, self._stmt)
        return self._load(name, e)

    def rhs_BoolOp(self, e):
        """``a and b`` -> ``t = a; if a: t = b`` (``or``: ``if not a``): short-circuit kept."""
        name = self._compound_temp(self._describe(e))
        self._bool_chain(e, list(e.values), name)
        return self._load(name, e)

    def _bool_chain(self, e, values, name):
        first = self.atom(values[0])
        self.statement(_assign_stmt(name, first, e))
        if len(values) > 1:
            test = first
            if isinstance(e.op, gast.Or):
                test = self.atom(gast.copy_location(gast.UnaryOp(op=gast.Not(), operand=first), e))
            saved, self.out = self.out, []
            try:
                self._bool_chain(e, values[1:], name)
                body = self.out
            finally:
                self.out = saved
            self._branch(test, body, [], self._stmt)

    def rhs_ListComp(self, e):
        """``[f(x) for x in xs if c]`` -> a list grown by a loop::

            f_list = []
            for x_2 in xs:
                if c:
                    f_list.append(f(x_2))

        The comprehension's own variables get fresh names (they are local to
        the comprehension in Python)."""
        name = self._compound_temp(f"{self._describe(e.elt)}_list")
        self.statement(_assign_stmt(name, gast.List(elts=[], ctx=gast.Load()), e))
        renames = {}
        for gen in e.generators:
            if getattr(gen, "is_async", 0):
                raise self.source.error(UnsupportedSyntaxError, "srcad cannot differentiate "
                                        "an async comprehension", gen)
            for target in gast.walk(gen.target):
                if isinstance(target, gast.Name):
                    renames[target.id] = self._compound_temp(target.id)
        rename = _Renamer(renames)
        append = gast.Attribute(value=gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                                type_comment=None), attr="append", ctx=gast.Load())
        body = [gast.copy_location(gast.Expr(value=gast.Call(func=append, args=[rename.copy(e.elt)],
                                                             keywords=[])), e)]
        for gen in reversed(e.generators):
            for cond in reversed(gen.ifs):
                body = [gast.copy_location(gast.If(test=rename.copy(cond), body=body, orelse=[]), e)]
            iter_ = gen.iter if gen is e.generators[0] else rename.copy(gen.iter)
            body = [gast.copy_location(gast.For(target=rename.copy(gen.target), iter=iter_, body=body,
                                                orelse=[], type_comment=None), e)]
        for stmt in body:
            self.statement(stmt)
        return self._load(name, e)

    rhs_GeneratorExp = rhs_ListComp          # materialized: sum(x * x for x in xs)

    def _compound_temp(self, base):
        name = self.names.fresh(base)
        self.locals.add(name)
        self.in_compound.add(name)
        return name

    def rhs_Tuple(self, e):
        return gast.Tuple(elts=self._display_elements(e), ctx=gast.Load())

    def rhs_List(self, e):
        return gast.List(elts=self._display_elements(e), ctx=gast.Load())

    def _display_elements(self, e):
        """The atoms of a tuple or list display; ``(*t, x)`` spreads a literal
        ``t`` holds (:meth:`_literal_of`); any other ``*t`` is refused."""
        out = []
        for x in e.elts:
            if isinstance(x, gast.Starred):
                literal = self._literal_of(x.value)
                if literal is None or literal[0] != "seq":
                    self._refuse_expression(x)
                out.extend(copy.deepcopy(a) for a in literal[1])
            else:
                out.append(self.atom(x))
        return out

    def rhs_Dict(self, e):
        """``{k: v, ...}`` over atoms.  Computed keys could coincide when the
        function runs, and then no one could say which value an entry's adjoint
        belongs to: a literal with a computed key has that entry only."""
        if e.keys and e.keys[0] is None and None not in e.keys[1:] \
                and all(isinstance(k, gast.Constant) for k in e.keys[1:]):
            return self._dict_update(e, e.values[0], e.keys[1:], e.values[1:])   # {**d, 'b': y}
        for key, value in zip(e.keys, e.values):
            if key is None:
                raise self.source.error(
                    UnsupportedSyntaxError, "srcad cannot differentiate ** unpacking in a dict display",
                    value, hint="copy the dict (d = other.copy()) and set entries one by one")
            if not isinstance(key, gast.Constant) and len(e.keys) > 1:
                raise self.source.error(
                    UnsupportedSyntaxError, "srcad needs constant keys in a dict display with "
                    "several entries", key,
                    hint="start from a dict with constant keys (or {}) and set computed keys "
                         "one by one: d[k] = v")
        return gast.Dict(keys=[self.atom(k) for k in e.keys], values=[self.atom(v) for v in e.values])

    def _dict_call(self, e):
        """``dict(a=x, b=y)`` as the literal ``{'a': x, 'b': y}``, or None.
        ``dict(m, b=y)`` copies ``m`` (a dict or pairs) and sets the keywords
        (:meth:`_dict_update`)."""
        func = e.func
        if not (isinstance(func, gast.Name) and func.id not in self.locals
                and self.parsed.namespace.lookup(func.id, None) is dict):
            return None
        if len(e.args) == 1 and all(kw.arg is not None for kw in e.keywords):
            keys = [gast.copy_location(gast.Constant(value=kw.arg, kind=None), kw.value) for kw in e.keywords]
            return self._dict_update(e, e.args[0], keys, [kw.value for kw in e.keywords])
        if e.args or any(kw.arg is None for kw in e.keywords):
            return None
        keys = [gast.copy_location(gast.Constant(value=kw.arg, kind=None), kw.value) for kw in e.keywords]
        return self.rhs_Dict(gast.Dict(keys=keys, values=[kw.value for kw in e.keywords]))

    def _dict_update(self, e, mapping, keys, values):
        """``dict(m, b=y)`` or ``{**m, 'b': y}`` -> ``t = dict(m)``, then
        ``t['b'] = y``: a copy (whose rule sends each entry's adjoint back to
        ``m``, a dict or a list of pairs) and entries set one by one.  Pairs
        that an iterator yields (``zip``, ``enumerate``, ``d.items()``) are
        first collected into a list, which the reverse sweep can read again."""
        pairs = self._as_pair_list(mapping)
        name = self._compound_temp(f"{pairs.id if isinstance(pairs, gast.Name) else 'dict'}_copy")
        copied = gast.copy_location(self._call_builtin("dict", [pairs], e), e)
        self._emit(_assign_stmt(name, copied, e), self._stmt)
        self.version[name] = name
        for key, value in zip(keys, values):
            target = gast.copy_location(gast.Subscript(value=self._load(name, e), slice=key, ctx=gast.Store()),
                                        value)
            self._setitem(target, value)
        return self._load(name, e)

    def _as_pair_list(self, mapping):
        """The atom of ``dict(mapping)``'s argument; an iterator of pairs
        becomes a list comprehension."""
        it = mapping
        width = None
        if isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id not in self.locals:
            found = self.parsed.namespace.lookup(it.func.id, None)
            width = len(it.args) if found is zip and it.args and not it.keywords else \
                2 if found is enumerate else None
        elif _dict_view(it, self.locals) == "items":
            width = 2
        if width is None:
            return self.atom(mapping)
        names = [self.names.fresh(f"item{k}") for k in range(width)]
        load = gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None)
                                for n in names], ctx=gast.Load())
        store = gast.Tuple(elts=[gast.Name(id=n, ctx=gast.Store(), annotation=None, type_comment=None)
                                 for n in names], ctx=gast.Store())
        comp = gast.ListComp(elt=load, generators=[gast.comprehension(target=store, iter=it, ifs=[],
                                                                      is_async=0)])
        return self.atom(gast.copy_location(comp, mapping))

    def rhs_DictComp(self, e):
        """``{k: v for k, v in pairs if c}`` -> ``dict([(k, v) for k, v in pairs if c])``:
        a list of pairs grown by a loop, then ``dict`` (whose rule sends each
        value's adjoint back to the pair that set the entry last), so keys may
        come out of a container that also holds differentiated values."""
        pair = gast.copy_location(gast.Tuple(elts=[e.key, e.value], ctx=gast.Load()), e)
        pairs = gast.copy_location(gast.ListComp(elt=pair, generators=e.generators), e)
        return self._call_builtin("dict", [self.atom(pairs)], e)

    def _refuse_expression(self, expr):
        self._refuse(UNSUPPORTED_EXPRESSIONS, expr)

    def _refuse(self, unsupported, node):
        """A located error for a statement or expression srcad refuses
        (``unsupported`` maps its type to what it is and a hint)."""
        if type(node) in unsupported:
            what, hint = unsupported[type(node)]
            raise self.source.error(UnsupportedSyntaxError,
                                    f"srcad cannot differentiate {what}", node, hint=hint)

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


class _Header:
    """The ``target`` and ``iter`` of a normalized for loop."""

    def __init__(self, target, iter_):
        self.target = target
        self.iter = iter_


class _Renamer(gast.NodeTransformer):
    """Renames variables (the targets of a comprehension) in a copy of a tree."""

    def __init__(self, renames):
        self.renames = renames

    def copy(self, node):
        return self.visit(copy.deepcopy(node))

    def visit_Name(self, node):
        node.id = self.renames.get(node.id, node.id)
        return node


def _identifier_of(atom):
    """A base for names made from ``atom``: its name, else ``seq``."""
    return atom.id if isinstance(atom, gast.Name) else "seq"


def _is_name(node, id_):
    return isinstance(node, gast.Name) and node.id == id_


def _text(node):
    """The source text of a gast expression (for annotations and messages)."""
    import ast
    return ast.unparse(gast.gast_to_ast(node))


def _dict_view(it, local_names):
    """``'items'``, ``'values'`` or ``'keys'`` when ``it`` is ``d.items()`` and
    the like on a local ``d``, else None."""
    if isinstance(it, gast.Call) and isinstance(it.func, gast.Attribute) \
            and it.func.attr in ("items", "values", "keys") and not it.args and not it.keywords \
            and isinstance(it.func.value, gast.Name) and it.func.value.id in local_names:
        return it.func.attr
    return None


def _assign_target(target, value, origin):
    stmt = gast.copy_location(gast.Assign(targets=[target], value=value, type_comment=None), origin)
    stmt.end_lineno = stmt.lineno           # it quotes the loop's header line only
    return stmt


def _free_names(parsed):
    code = parsed.func.__code__
    return set(code.co_names) | set(code.co_freevars)


def _first_local(expr, local_names):
    for node in walk(expr):
        if isinstance(node, gast.Name) and node.id in local_names:
            return node.id
    return ""


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
    for n in walk(fdef):
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


def check_signature(parsed, callee=False):
    """Refuse the parameters srcad cannot bind.

    The function the user transforms is handed back with its own parameters
    plus trailing seeds or tangents, which cannot follow ``*args``; so it
    takes named parameters only.  A function it calls (``callee``) may take
    ``*args``: the caller binds those arguments to one tuple.  ``**kwargs``
    would be a dict, which srcad does not follow yet.
    """
    args = parsed.node.args
    extras = [(args.kwarg, "**kwargs")] if callee else [(args.vararg, "*args"), (args.kwarg, "**kwargs")]
    for extra, what in extras:
        if extra is not None:
            raise parsed.source.error(
                UnsupportedSyntaxError,
                f"cannot differentiate a function with {what} parameters", extra,
                hint="give the function named parameters; a helper the differentiated "
                     "function calls may take *args")


def _refused_target(target):
    """(message, hint) for an assignment target srcad does not differentiate."""
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Subscript):
        # L[0][0] = v, d['w'][0] = v, a[0][1] = v: a write through an element
        inner = target.value
        while isinstance(inner, gast.Subscript):
            inner = inner.value
        base = inner.id if isinstance(inner, gast.Name) else "the container"
        return (f"srcad does not differentiate a write into an element of {base!r} "
                f"(`{base}[...][...] = ...`): the element is shared with {base!r} and with "
                "every other name that holds it",
                f"for an array, write one subscript ({base}[i, j] = v); for an array in a list "
                f"or dict, update a copy and store it back (item = {base}[k].copy(); "
                f"item[j] = v; {base}[k] = item)")
    if isinstance(target, gast.Subscript):
        return ("srcad does not differentiate a write into a value that is not a variable of "
                "this function (a global, an attribute, a call's result)",
                "copy it into a variable of the function first (a = g.copy()) and write into that")
    if isinstance(target, gast.Attribute):
        return ("srcad does not differentiate an assignment to an attribute: it follows values "
                "in the function's own variables only",
                "keep the value in a variable of the function (w = ...) and return it")
    return "srcad does not differentiate this assignment", "assign to a plain name"


def fence(parsed):
    """Refuse unsupported statements anywhere in the function, before the
    structuring pass moves them (the pipeline's first stage after parsing)."""
    fdef = parsed.node
    for node in statements(fdef):
        if node is not fdef and type(node) in UNSUPPORTED_STATEMENTS:
            what, hint = UNSUPPORTED_STATEMENTS[type(node)]
            raise parsed.source.error(UnsupportedSyntaxError,
                                      f"srcad cannot differentiate {what}", node, hint=hint)


def name_allocator(parsed):
    """The allocator of new names for one transformation: it avoids every
    name the (lifted) function uses and every global or free name it reads."""
    return NameAllocator(all_names(parsed.node) | _free_names(parsed))


def normalize(parsed, callee=False):
    """The A-normal form of ``parsed.node`` (a new gast.FunctionDef), after
    the whole front end (fence, lift, structure: :func:`srcad.pipeline.front_end`);
    ``callee`` when it is called from a transformed function (see
    :func:`check_signature`)."""
    from srcad.pipeline import front_end      # the pipeline imports this module
    return front_end(parsed, callee)
