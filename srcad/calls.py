"""Variadic functions specialised on the shape of a call.

A function with ``*args`` or ``**kwargs`` parameters (a decorator's
``wrapper(*args, **kwargs)``, SciPy's ``f(x, *args)``) cannot be given seed or
tangent parameters after its own, and its body reads ``args`` and ``kwargs``
whose length and keys are only known when it is called.  Once the call is
known, though, the function is an ordinary one.  :func:`specialise` writes
that ordinary function: for a call with two extra positional arguments and
the keyword ``s``, ::

    def wrapper(*args, **kwargs):
        return 2.0 * fn(*args, **kwargs)

becomes ::

    def wrapper(args_0, args_1, *, s):
        args = (args_0, args_1)
        kwargs = {'s': s}
        return 2.0 * fn(*args, **kwargs)

and the normalizer expands ``fn(*args, **kwargs)`` over the literals it now
sees (``fn(args_0, args_1, s=s)``).  The specialised function is compiled
over the original's globals and closure cells (so ``fn`` is the same cell),
keeps its tree for :func:`srcad.parse.parse_function` like a lifted nested
function, and is cached on the original per call shape, so each shape is
transformed once.  ``srcad.grad(wrapper)`` of such a function is a small
dispatcher (:func:`dispatcher`) that picks the derivative of the
specialisation for each call; a called function with ``**kwargs`` is
specialised at its call site (``graph._attach_callee``).
"""

import builtins
import copy
import functools
import inspect
import threading
import types

import gast
import numpy as np

from srcad import caches, parse
from srcad.errors import SrcadError, UnsupportedSyntaxError
from srcad.trees import Transformer, all_nodes, name_nodes, parameters, statements

_lock = threading.RLock()


def _register_helpers():
    """The order of a sort is a constant for differentiation."""
    from srcad.rules.registry import nondifferentiable
    from srcad.runtime import sort_order
    nondifferentiable(sort_order)


_register_helpers()


def is_variadic(func):
    """True when ``func`` (a Python function) takes ``*args`` or ``**kwargs``."""
    code = getattr(func, "__code__", None)
    return code is not None and bool(code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS))


def forwards_varargs(func):
    """True when ``func``'s body spreads its own ``*args`` (``fn(*args)``):
    then a call site specialises it, since the tuple's length is known there."""
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get("forwards")
        if found is None or found[0] is not func.__code__:
            node = parse.read_function(func)
            star = node.args.vararg.id if node.args.vararg is not None else None
            spreads = any(isinstance(n, gast.Starred) and isinstance(n.value, gast.Name)
                          and n.value.id == star for n in gast.walk(node))
            found = table["forwards"] = (func.__code__, spreads)
        return found[1]


def is_function_value(value):
    """True for a value a parameter can be specialised on: a Python or
    NumPy function, a builtin, a ufunc, a bound method (not a class, whose
    call builds an object, nor data)."""
    return (isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                               np.ufunc))
            and not getattr(value, "srcad_mode", None))


def specialise(func, n_extra, kw_names, known=None):
    """``func`` with its ``*args`` replaced by ``n_extra`` positional
    parameters and its ``**kwargs`` by keyword-only parameters named
    ``kw_names`` (``None`` keeps that one as it is), and the parameters of
    ``known`` (a dict) calling the function given there; cached on ``func``."""
    kw_names = None if kw_names is None else tuple(sorted(kw_names))
    known = _unassigned(func, known or {})
    key = (n_extra, kw_names, tuple(sorted((k, id(v)) for k, v in known.items())))
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get(key)
        if found is not None and found[0] is func.__code__ and found[2] == known:
            return found[1]
        spec = _build(func, n_extra, kw_names, known)
        table[key] = (func.__code__, spec, known)
        return spec


def _unassigned(func, known):
    """The entries of ``known`` whose parameter the body never assigns (an
    assigned one may hold another function by the time it is called)."""
    if not known:
        return known
    stored = {n.id for n in name_nodes(parse.read_function(func))
              if isinstance(n.ctx, gast.Store)}
    return {k: v for k, v in known.items() if k not in stored}


def _build(func, n_extra, kw_names, known):
    parsed = parse.parse_function(func)
    node, source = parsed.node, parsed.source
    args = node.args
    taken = {n.id for n in name_nodes(node)} | set(func.__code__.co_names)
    prologue = []
    defaults = func.__defaults__
    if args.vararg is not None and n_extra is not None:
        star = args.vararg
        names = _fresh_names(star.id, n_extra, taken)
        args.args.extend(_param(n, star) for n in names)
        args.vararg = None
        if n_extra:
            defaults = None                  # every named positional was passed
        prologue.append(_assign(star.id, gast.Tuple(elts=[_load(n, star) for n in names],
                                                    ctx=gast.Load()), star))
    if args.kwarg is not None and kw_names is not None:
        double = args.kwarg
        own = {p.id for p in parameters(args)}
        for key in kw_names:
            if key in taken and key not in own or not key.isidentifier():
                raise source.error(
                    UnsupportedSyntaxError,
                    f"srcad cannot differentiate {func.__qualname__} called with the keyword "
                    f"{key!r}, a name its body also uses", double,
                    hint=f"rename the variable {key!r} in {func.__qualname__}, or pass the "
                         f"value under another keyword")
        args.kwonlyargs.extend(_param(k, double) for k in kw_names)
        args.kw_defaults.extend(None for _ in kw_names)
        args.kwarg = None
        keys = [gast.copy_location(gast.Constant(value=k, kind=None), double) for k in kw_names]
        prologue.append(_assign(double.id, gast.Dict(keys=keys, values=[_load(k, double) for k in kw_names]),
                                double))
    node.body[:0] = prologue
    node.returns = None                      # annotations would be evaluated when compiled
    for param in parameters(args):
        param.annotation = None
    spec = _compile(func, node, source, defaults)
    spec.srcad_known = dict(known)            # also marks it as a specialisation
    return spec


def _compile(func, node, source, defaults):
    from srcad.lift import _code
    cells = dict(zip(func.__code__.co_freevars, func.__closure__ or ()))
    code = _code(node, sorted(cells), func.__name__, source.filename)
    closure = tuple(cells[n] for n in code.co_freevars)
    fn = types.FunctionType(code, func.__globals__, func.__name__, defaults, closure or None)
    fn.__kwdefaults__ = dict(func.__kwdefaults__) if func.__kwdefaults__ else None
    fn.__qualname__ = func.__qualname__
    fn.__module__ = func.__module__
    fn.srcad_nested = (node, source)
    return fn


def _fresh_names(base, n, taken):
    out = []
    i = 0
    while len(out) < n:
        name = f"{base}_{i}"
        if name not in taken:
            out.append(name)
            taken.add(name)
        i += 1
    return out


def _param(name, origin):
    return gast.copy_location(gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None),
                              origin)


def _load(name, origin):
    return gast.copy_location(gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None),
                              origin)


def _assign(name, value, origin):
    target = gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None)
    stmt = gast.Assign(targets=[gast.copy_location(target, origin)],
                       value=gast.copy_location(value, origin), type_comment=None)
    return gast.copy_location(stmt, origin)


# -- the derivative of a variadic function ----------------------------------------

def function_parameters(func):
    """``{name: default}`` for ``func``'s parameters whose default is a
    function (``nonlinearity=np.tanh``) or that its body calls (``fn(x)``):
    each call's value is specialised on (the default is ``Parameter.empty``
    where there is none)."""
    try:
        params = inspect.signature(func, follow_wrapped=False).parameters.values()
    except (TypeError, ValueError):
        return {}
    called = called_parameters(func)
    return {p.name: p.default for p in params
            if is_function_value(p.default) or p.name in called}


def called_parameters(func):
    """The parameters ``func``'s body calls (``def apply(fn, x): return fn(x)``),
    read once per code object."""
    if not inspect.isfunction(func) or parse.is_library_function(func):
        return frozenset()
    with _lock:
        table = caches.table(func, "specialised")
        found = table.get("called")
        if found is None or found[0] is not func.__code__:
            try:
                node = parse.read_function(func)
            except SrcadError:
                called = frozenset()
            else:
                own = {p.id for p in parameters(node.args)}
                called = frozenset(n.func.id for n in all_nodes([node]) if isinstance(n, gast.Call)
                                   and isinstance(n.func, gast.Name) and n.func.id in own)
            found = table["called"] = (func.__code__, called)
        return found[1]


def needs_dispatch(func):
    """True when the derivative of ``func`` depends on more than its code:
    ``*args``/``**kwargs`` or function-valued defaults."""
    return getattr(func, "srcad_mode", None) is None and not hasattr(func, "srcad_known") and (
        is_variadic(func) or bool(function_parameters(func)))


def inherit_known(generated, func):
    """Generated code of a specialised ``func`` calls the same parameters:
    a derivative of it (hessian, grad of grad) knows them too."""
    known = getattr(func, "srcad_known", None)
    if known:
        generated.srcad_known = known


def _trailing(mode, wrt):
    """How many positional arguments ``mode``'s derivative takes after the
    function's own (grad's seed defaults to 1.0 and is passed by keyword)."""
    k = len(wrt) if isinstance(wrt, (tuple, list)) else 1
    return {"vjp": 1, "jvp": k, "hvp": k, "hessp": 1}.get(mode, 0)


def dispatcher(func, wrt, mode, make):
    """The derivative of a variadic ``func``: at each call, the derivative
    (``make(spec)``) of ``func`` specialised on that call's number of extra
    positional arguments and its extra keywords."""
    sig = inspect.signature(func, follow_wrapped=False)
    params = list(sig.parameters.values())
    named = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    own_keywords = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    has_star = any(p.kind is p.VAR_POSITIONAL for p in params)
    has_double = any(p.kind is p.VAR_KEYWORD for p in params)
    trailing = _trailing(mode, wrt)
    seeds = {"dout"} if mode in ("grad", "value_and_grad") else set()

    valued = function_parameters(func)
    where = {p: named.index(p) if p in named else None for p in valued}

    def shape(args, kwargs):
        n_extra = max(len(args) - trailing - len(named), 0) if has_star else None
        kw = tuple(k for k in kwargs if k not in own_keywords and k not in seeds) if has_double else None
        known = {}
        for p, default in valued.items():
            at = where[p]
            value = args[at] if at is not None and at < len(args) - trailing else kwargs.get(p, default)
            if is_function_value(value):
                known[p] = value
        return n_extra, kw, known

    def for_call(*args, **kwargs):
        """The generated derivative this call runs (its ``.source``, ``.graph``)."""
        return make(specialise(func, *shape(complete(args, kwargs), kwargs)))

    defaults = {p.name: p.default for p in params if p.default is not p.empty}

    def complete(args, kwargs):
        """A derivative with trailing seeds or tangents (vjp, jvp) takes every
        positional parameter: the defaults the call leaves out are filled in."""
        if not trailing or has_star:
            return args
        primal, tail = list(args[:len(args) - trailing]), list(args[len(args) - trailing:])
        for name in named[len(primal):]:
            if name in kwargs or name not in defaults:
                break
            primal.append(defaults[name])
        return tuple(primal + tail)

    seen = {}          # shape -> (functions specialised on, derivative): one dict read a call

    def derivative(*args, **kwargs):
        args = complete(args, kwargs)
        n_extra, kw, known = shape(args, kwargs)
        key = (n_extra, kw, tuple((p, id(v)) for p, v in known.items()))
        found = seen.get(key)
        if found is None or any(known[p] is not v for p, v in found[0].items()):
            # a kept derivative: its entry guard re-transforms after a rebinding
            found = seen[key] = (known, make(specialise(func, n_extra, kw, known)))
        return found[1](*args, **kwargs)

    def refresh():
        """Drop the derivatives made from what a name meant before it was
        rebound (``srcad.grad(f)`` calls this, as it checks a cached derivative)."""
        for key, (_, fn) in list(seen.items()):
            if not caches.is_current(fn):
                del seen[key]

    derivative.for_call = for_call
    derivative.refresh = refresh
    derivative.__wrapped__ = func
    derivative.srcad_mode = mode
    derivative.__qualname__ = f"srcad.{mode}({func.__qualname__})"
    derivative.__doc__ = (f"srcad.{mode} of {func.__qualname__}, which takes *args or **kwargs: each "
                          f"call runs the derivative of {func.__qualname__} specialised on that call's "
                          f"arguments (.for_call(*args) gives it, with its .source).")
    return derivative


# -- functions passed as values: map, sorted(key=...), functools.partial ----------

def rewrite_function_values(parsed):
    """Turn the places where code passes a function as a value into calls,
    before nested functions are lifted (srcad/lift.py), so that each call is
    an ordinary callee or primitive:

    * ``map(f, xs)`` -> ``[f(t) for t in xs]`` (several sequences: a zip),
      with a lambda's body inlined: ``map(lambda t: t * t, xs)`` ->
      ``[t * t for t in xs]``;
    * ``sorted(xs, key=f)`` -> ``[xs[i] for i in sort_order([f(t) for t in xs])]``
      and ``min``/``max(xs, key=f)`` -> ``xs[sort_order(...)[0]]`` (the order
      is a constant; the elements carry their derivatives back);
    * ``p = functools.partial(f, a, k=v)``, a statement of the body, with
      ``p`` only called -> ``p_a = a; p_k = v`` and every ``p(y)`` ->
      ``f(p_a, y, k=p_k)``; a partial bound at module level, ``P(y)`` ->
      ``P.func(P.args[0], y, k=P.keywords['k'])``;
    * a lambda passed to a call, ``apply(lambda t: t * t, x)``, becomes a
      named nested function first (usable as a value when it reads no
      variable of the function).
    """
    fdef = parsed.node
    nodes = all_nodes([fdef])
    rewriter = _ValueRewriter(parsed)
    rewriter.partials(fdef)
    # the rewrites move and copy nodes of the tree but make no ``key=`` and no
    # lambda: a function without them now (most) has no sequence to name and
    # no lambda to hoist, and is not walked for them statement by statement
    if any(type(n) is gast.keyword and n.arg == "key" for n in nodes):
        fdef.body = rewriter.name_sorted_sequences(fdef.body)
    rewriter.visit(fdef)
    if any(type(n) is gast.Lambda for n in nodes):
        rewriter.hoist_lambdas(fdef)


class _ValueRewriter(Transformer):
    def __init__(self, parsed):
        self.parsed = parsed
        self.source = parsed.source
        names = name_nodes(parsed.node)
        self.stored = {n.id for n in names if isinstance(n.ctx, (gast.Store, gast.Param))}
        self.stored |= {n.name for n in statements(parsed.node)          # nested defs: not globals
                        if isinstance(n, gast.FunctionDef) and n is not parsed.node}
        from srcad.normalize import NameAllocator        # normalize runs after this pass
        self.names = NameAllocator({n.id for n in names} | set(parsed.func.__code__.co_names))
        self.local_partials = {}
        self.helper_name = None

    # -- names ---------------------------------------------------------------
    def fresh(self, base):
        """A new name (normalize's allocator: never a keyword, builtin or taken name)."""
        return self.names.fresh(base)

    def builtin(self, expr, obj):
        """True when ``expr`` is a name bound to the builtin ``obj`` (not shadowed)."""
        return (isinstance(expr, gast.Name) and expr.id not in self.stored
                and self.parsed.namespace.lookup(expr.id, None, record_missing=False) is obj)

    def resolve(self, expr):
        """The object a static name or attribute chain (no locals) names, or None."""
        if isinstance(expr, gast.Name):
            return None if expr.id in self.stored else \
                self.parsed.namespace.lookup(expr.id, None, record_missing=False)
        if isinstance(expr, gast.Attribute):
            base = self.resolve(expr.value)
            if base is None:
                return None
            return getattr(base, expr.attr, None)
        return None

    def sort_helper(self):
        """The name generated code calls ``runtime.sort_order`` by, bound in
        the function's namespace like a closure variable."""
        if self.helper_name is None:
            from srcad.runtime import sort_order
            self.helper_name = self.fresh("sort_order")
            cell = types.CellType(sort_order)
            self.parsed.namespace.cells[self.helper_name] = cell
            self.parsed.namespace.closure[self.helper_name] = sort_order
        return self.helper_name

    # -- calls ----------------------------------------------------------------
    def visit_FunctionDef(self, node):
        """A nested def is rewritten when it is itself normalized (lifted)."""
        if node is self.parsed.node:
            self.generic_visit(node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        func = node.func
        if isinstance(func, gast.Name) and func.id in self.local_partials:
            return self.call_partial(node, *self.local_partials[func.id])
        if self.builtin(func, builtins.map) and len(node.args) >= 2 and not node.keywords:
            return self.mapped(node)
        keys = {kw.arg: kw.value for kw in node.keywords}
        if "key" in keys and len(node.args) == 1 and set(keys) <= {"key", "reverse"}:
            for which in (sorted, min, max):
                if self.builtin(func, which):
                    return self.sorted_by(node, which, keys)
        bound = self.resolve(func)
        if isinstance(bound, functools.partial):
            return self.call_global_partial(node, func, bound)
        return node

    def mapped(self, node):
        fn, seqs = node.args[0], node.args[1:]
        if isinstance(fn, gast.Lambda):
            params = self.lambda_params(fn, len(seqs))
            elt = copy.deepcopy(fn.body)
        else:
            params = [self.fresh("item") for _ in seqs]
            elt = self.visit_Call(_located(gast.Call(func=copy.deepcopy(fn), args=[_load(p, node) for p in params],
                                                     keywords=[]), node))
        return self.comprehension(node, elt, params, seqs)

    def comprehension(self, origin, elt, params, seqs):
        if len(seqs) == 1:
            target, it = _store(params[0], origin), seqs[0]
        else:
            zip_name = gast.Name(id="zip", ctx=gast.Load(), annotation=None, type_comment=None)
            if self.parsed.namespace.lookup("zip", None) is not zip or "zip" in self.stored:
                raise self.source.error(UnsupportedSyntaxError, "srcad reads map over several "
                                        "sequences as a zip, but `zip` is rebound here", origin,
                                        hint="map over one sequence, or write the comprehension")
            target = gast.Tuple(elts=[_store(p, origin) for p in params], ctx=gast.Store())
            it = gast.Call(func=zip_name, args=list(seqs), keywords=[])
        gen = gast.comprehension(target=target, iter=it, ifs=[], is_async=0)
        return _located(gast.ListComp(elt=elt, generators=[gen]), origin)

    def lambda_params(self, fn, n):
        args = fn.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or \
                getattr(args, "posonlyargs", None) or len(args.args) != n:
            raise self.source.error(
                UnsupportedSyntaxError, f"srcad can pass a lambda to map only with {n} plain "
                f"parameter(s), one per sequence", fn,
                hint="give the lambda one parameter per sequence, without defaults")
        return [a.id for a in args.args]

    def sorted_by(self, node, which, keys):
        """``sorted(xs, key=f)``, ``min``/``max(xs, key=f)`` over the order of the keys."""
        seq, fn = node.args[0], keys["key"]
        if not isinstance(seq, gast.Name):
            raise self.source.error(
                UnsupportedSyntaxError, f"srcad differentiates {which.__name__}(..., key=...) of a "
                f"named sequence", seq, hint="assign the sequence to a name first: "
                f"items = ...; {which.__name__}(items, key=...)")
        if isinstance(fn, gast.Lambda):
            params = self.lambda_params(fn, 1)
            elt = copy.deepcopy(fn.body)
        else:
            params = [self.fresh("item")]
            elt = self.visit_Call(_located(gast.Call(func=copy.deepcopy(fn), args=[_load(params[0], node)],
                                                     keywords=[]), node))
        key_list = self.comprehension(node, elt, params, [copy.deepcopy(seq)])
        reverse = keys.get("reverse", gast.Constant(value=False, kind=None))
        if which is max:
            reverse = gast.Constant(value=True, kind=None)     # stable: the first largest
        order = _located(gast.Call(func=_load(self.sort_helper(), node), args=[key_list],
                                   keywords=[gast.keyword(arg="reverse", value=copy.deepcopy(reverse))]),
                         node)
        if which is not sorted:
            first = gast.Subscript(value=order, slice=gast.Constant(value=0, kind=None), ctx=gast.Load())
            return _located(gast.Subscript(value=copy.deepcopy(seq), slice=_located(first, node),
                                           ctx=gast.Load()), node)
        index = self.fresh("i")
        elt = gast.Subscript(value=copy.deepcopy(seq), slice=_load(index, node), ctx=gast.Load())
        gen = gast.comprehension(target=_store(index, node), iter=order, ifs=[], is_async=0)
        return _located(gast.ListComp(elt=_located(elt, node), generators=[gen]), node)

    def name_sorted_sequences(self, stmts):
        """``sorted([a, b], key=f)`` reads its sequence twice (keys, then
        elements): a sequence that is not a name is assigned to one first, in
        statements that evaluate it once (not a while test, nor inside a
        comprehension or lambda)."""
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                    setattr(stmt, field, self.name_sorted_sequences(inner))
            if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr,
                                     gast.Return, gast.If, gast.For)):
                out.append(stmt)
                continue
            heads = [stmt.test] if isinstance(stmt, gast.If) else \
                [stmt.iter] if isinstance(stmt, gast.For) else [stmt]
            for head in heads:
                for call in self._sorted_calls(head):
                    name = self.fresh("items")
                    out.append(_located(gast.Assign(targets=[_store(name, call.args[0])],
                                                    value=call.args[0], type_comment=None), stmt))
                    call.args[0] = _load(name, call.args[0])
            out.append(stmt)
        return out

    def _sorted_calls(self, root):
        """sorted/min/max calls with a key over an unnamed sequence, outside comprehensions."""
        found, stack = [], [root]
        while stack:
            node = stack.pop()
            if isinstance(node, (gast.Lambda, gast.ListComp, gast.GeneratorExp, gast.SetComp,
                                 gast.DictComp, gast.FunctionDef)) or \
                    (isinstance(node, list)):
                continue
            if isinstance(node, gast.Call) and len(node.args) == 1 and \
                    any(kw.arg == "key" for kw in node.keywords) and \
                    not isinstance(node.args[0], gast.Name) and \
                    any(self.builtin(node.func, b) for b in (sorted, min, max)):
                found.append(node)
            stack.extend(gast.iter_child_nodes(node))
        return found

    # -- functools.partial ----------------------------------------------------------
    def partials(self, fdef):
        """Find ``p = functools.partial(f, ...)`` statements of the body and
        replace each by assignments of its arguments (see the class docstring)."""
        body = []
        for stmt in fdef.body:
            found = self.partial_statement(stmt)
            if found is None:
                body.append(stmt)
                continue
            name, fn, args, keywords = found
            stores = [n for n in gast.walk(fdef) if isinstance(n, gast.Name) and n.id == name
                      and isinstance(n.ctx, (gast.Store, gast.Param))]
            if len(stores) != 1:
                body.append(stmt)
                continue
            held_args = []
            for i, a in enumerate(args):
                held_args.append(self.hold(f"{name}_{i}", a, stmt, body))
            held_kw = [(k, self.hold(f"{name}_{k}", v, stmt, body)) for k, v in keywords]
            self.local_partials[name] = (fn, held_args, held_kw)
        fdef.body = body

    def partial_statement(self, stmt):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call)):
            return None
        call = stmt.value
        if self.resolve(call.func) is not functools.partial or not call.args \
                or any(isinstance(a, gast.Starred) for a in call.args) \
                or any(kw.arg is None for kw in call.keywords):
            return None
        fn = call.args[0]
        if isinstance(fn, gast.Name) and fn.id in self.stored and \
                sum(1 for n in gast.walk(self.parsed.node) if isinstance(n, gast.Name)
                    and n.id == fn.id and isinstance(n.ctx, gast.Store)) > 0:
            return None                        # a local that may change: the partial holds the old one
        if not isinstance(fn, (gast.Name, gast.Attribute)):
            return None
        return (stmt.targets[0].id, fn, call.args[1:], [(kw.arg, kw.value) for kw in call.keywords])

    def hold(self, base, value, origin, body):
        """A partial's argument, evaluated once where the partial is made."""
        if isinstance(value, gast.Constant):
            return value
        name = self.fresh(base)
        body.append(_located(gast.Assign(targets=[_store(name, origin)], value=value, type_comment=None),
                             origin))
        return _load(name, origin)

    def call_partial(self, node, fn, args, keywords):
        given = {kw.arg for kw in node.keywords}
        return _located(gast.Call(
            func=copy.deepcopy(fn), args=[copy.deepcopy(a) for a in args] + list(node.args),
            keywords=[gast.keyword(arg=k, value=copy.deepcopy(v)) for k, v in keywords if k not in given]
            + list(node.keywords)), node)

    def call_global_partial(self, node, func, bound):
        """``P(y)`` for a partial ``P`` bound outside: its parts read when the code runs."""
        inner = _located(gast.Attribute(value=copy.deepcopy(func), attr="func", ctx=gast.Load()), func)
        held = _located(gast.Attribute(value=copy.deepcopy(func), attr="args", ctx=gast.Load()), func)
        kw = _located(gast.Attribute(value=copy.deepcopy(func), attr="keywords", ctx=gast.Load()), func)
        args = [_located(gast.Subscript(value=copy.deepcopy(held), slice=gast.Constant(value=i, kind=None),
                                        ctx=gast.Load()), func) for i in range(len(bound.args))]
        given = {k.arg for k in node.keywords}
        keywords = [gast.keyword(arg=k, value=_located(gast.Subscript(
            value=copy.deepcopy(kw), slice=gast.Constant(value=k, kind=None), ctx=gast.Load()), func))
            for k in bound.keywords if k not in given]
        call = _located(gast.Call(func=inner, args=args + list(node.args),
                                  keywords=keywords + list(node.keywords)), node)
        if isinstance(bound.func, functools.partial):
            return self.call_global_partial(call, inner, bound.func)
        return call

    # -- lambdas passed to calls ------------------------------------------------------
    def hoist_lambdas(self, fdef):
        """``apply(lambda t: t * t, x)`` -> ``lambda_t = lambda t: t * t`` first,
        for the statements of the body (srcad/lift.py makes it a callee)."""
        body = []
        for stmt in fdef.body:
            if isinstance(stmt, gast.FunctionDef) or (isinstance(stmt, gast.Assign)
                                                      and isinstance(stmt.value, gast.Lambda)):
                body.append(stmt)
                continue
            for call in [n for n in gast.walk(stmt) if isinstance(n, gast.Call)]:
                for i, arg in enumerate(call.args):
                    if isinstance(arg, gast.Lambda):
                        name = self.fresh("lambda_" + "_".join(a.id for a in arg.args.args)
                                          if arg.args.args else "lambda")
                        body.append(_located(gast.Assign(targets=[_store(name, arg)], value=arg,
                                                         type_comment=None), stmt))
                        call.args[i] = _load(name, arg)
            body.append(stmt)
        fdef.body = body


def _store(name, origin):
    return gast.copy_location(gast.Name(id=name, ctx=gast.Store(), annotation=None, type_comment=None),
                              origin)


def _located(node, origin):
    for sub in gast.walk(node):
        if not hasattr(sub, "lineno") or getattr(sub, "lineno", None) is None:
            if hasattr(origin, "lineno"):
                gast.copy_location(sub, origin)
    return node


# -- srcad.grad(functools.partial(f, ...)) ---------------------------------------------

def partial_derivative(p, wrt, mode, make):
    """The derivative of ``functools.partial(f, *a, **k)``: ``f``'s own
    derivative (``make(f, wrt)``), with ``wrt``'s positions counted after the
    bound arguments, called with every argument of ``f`` bound by position
    and then the seeds or tangents of ``mode``."""
    held = len(p.args)
    signature = inspect.signature(p.func, follow_wrapped=False)
    trailing = _trailing(mode, wrt)

    def shift(w):
        return w + held if isinstance(w, int) and not isinstance(w, bool) and w >= 0 else w

    shifted = tuple(shift(w) for w in wrt) if isinstance(wrt, (tuple, list)) else shift(wrt)
    inner = make(p.func, shifted)
    args, keywords = p.args, p.keywords

    def derivative(*more, **kwargs):
        primal, tail = more[:len(more) - trailing], more[len(more) - trailing:]
        bound = signature.bind(*args, *primal, **{**keywords, **kwargs})
        bound.apply_defaults()
        return inner(*bound.args, *tail, **bound.kwargs)

    def for_call(*more, **kwargs):
        """The generated function a call runs."""
        if not hasattr(inner, "for_call"):
            return inner
        bound = signature.bind(*args, *more, **{**keywords, **kwargs})
        return inner.for_call(*bound.args, **bound.kwargs)

    derivative.for_call = for_call
    derivative.__wrapped__ = p
    derivative.srcad_mode = getattr(inner, "srcad_mode", None)
    derivative.source = getattr(inner, "source", None)
    derivative.wrt = getattr(inner, "wrt", None)
    derivative.__qualname__ = f"srcad.{derivative.srcad_mode}(functools.partial({p.func.__qualname__}, ...))"
    return derivative
