"""Stage 2 pre-pass, lift: nested functions become ordinary callees.

A ``def`` (or a ``name = lambda ...``) at the top level of the differentiated
function's body is *lambda-lifted*: it is taken out of the body, the local
variables of the enclosing function it reads become keyword-only parameters,
and every call passes them.  Before::

    def f(x, w):
        def layer(h, b=0.5):
            return np.tanh(h * w + b)
        act = lambda t: t * np.sin(x)
        w = w * 2.0
        return np.sum(layer(layer(x)) + act(x))

After (``f``'s tree; ``layer`` and ``act`` are real function objects bound in
``f``'s namespace like closure variables)::

    def f(x, w):
        w = w * 2.0
        return np.sum(layer(layer(x, w=w), w=w) + act(x, x=x))

    def layer(h, b=0.5, *, w):
        return np.tanh(h * w + b)

    def act(t, *, x):
        return t * np.sin(x)

Why this is exact: a closure reads an enclosing variable when it *runs*, not
when it is defined, so passing the variable's value at every call is Python's
own semantics (``w = w * 2.0`` after the ``def`` is seen by ``layer``) — as
long as the nested function is only ever called, which is checked.  The
normalizer then renames the passed ``w`` to its current version, and the
existing callee machinery (``api.split``, ``api.forward_entry``) differentiates
``layer`` like any module-level function: caching, recursion, saving the
forward values and inactive calls from generated code come for free.

The lifted functions are compiled from the lifted tree with the user's file
name and line numbers, over ``f``'s real closure cells, and keep that tree
(``fn.srcad_nested``) for :func:`srcad.parse.parse_function`, because the
file holds no ``def`` with the extra parameters (and none at all for a lambda).
A lifted function is lifted from again when it is itself differentiated, so
functions nested in nested functions work the same way.
"""

import ast
import copy
import threading
import types

import gast

from srcad import caches
from srcad.errors import UnsupportedSyntaxError
from srcad.parse import lambda_to_def
from srcad.builders import name as _name, param as _param
from srcad.trees import parameters, statements

_lock = threading.Lock()

_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)
_SCOPES = (gast.FunctionDef, gast.Lambda) + _COMPREHENSIONS


def lift(parsed):
    """Lift the nested functions of ``parsed.node`` (modified in place) and
    bind them in ``parsed.namespace``."""
    fdef, source = parsed.node, parsed.source
    original = list(fdef.body)
    nested = _take_nested(fdef, source)
    _refuse_misplaced(fdef.body, source)
    if not nested:
        return
    _refuse_rebinding(fdef, nested, source)
    _refuse_calls_before_definition(original, nested, source)
    order = _local_order(fdef)
    extra = _lifted_names(nested, order)
    for node in [fdef] + [n.node for n in nested.values()]:
        _rewrite_calls(node, set(nested) - _bound(node), extra, source)
    for item in nested.values():
        _add_parameters(item.node, extra[item.node.name])
    for name, cell in _functions(parsed, nested).items():
        parsed.namespace.cells[name] = cell          # resolved like a closure variable
        parsed.namespace.closure[name] = cell.cell_contents


class _Nested:
    """A nested function found in the body: its (lifted) def and its position."""

    def __init__(self, node, index):
        self.node = node
        self.index = index


# -- finding the nested functions -------------------------------------------------

def _take_nested(fdef, source):
    """Remove the top-level nested defs and named lambdas from ``fdef.body``."""
    nested, body = {}, []
    for index, stmt in enumerate(fdef.body):
        node = _as_def(stmt)
        if node is None:
            body.append(stmt)
            continue
        if node.name in nested:
            raise source.error(
                UnsupportedSyntaxError, f"srcad cannot differentiate a nested function "
                f"{node.name!r} defined twice", stmt, hint="give each nested function its own name")
        _check_definition(node, source)
        nested[node.name] = _Nested(node, index)
    fdef.body = body
    return nested


def _as_def(stmt):
    """``stmt`` as a FunctionDef when it defines a nested function, else None."""
    if isinstance(stmt, gast.FunctionDef):
        return stmt
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda):
        return lambda_to_def(stmt.value, stmt.targets[0].id, origin=stmt)
    return None


def _check_definition(node, source):
    """Decorators would wrap the function in something srcad cannot read, and
    defaults are evaluated once at definition time: only constants are both
    cheap to keep and safe to evaluate again."""
    if node.decorator_list:
        raise source.error(
            UnsupportedSyntaxError, f"srcad cannot differentiate the decorated nested "
            f"function {node.name!r}", node.decorator_list[0],
            hint="remove the decorator, or define the function at module level")
    for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
        _constant(default, node.name, source)
    node.returns = None                   # annotations would be evaluated when compiled
    for param in parameters(node.args):
        param.annotation = None


def _constant(expr, fname, source):
    """The value of a default ``expr``; a constant or an error."""
    try:
        return ast.literal_eval(gast.gast_to_ast(expr))
    except (ValueError, TypeError, SyntaxError):
        raise source.error(
            UnsupportedSyntaxError, f"srcad cannot differentiate the nested function "
            f"{fname!r}: its default values must be constants", expr,
            hint="use a constant default (a number, a string, None), or pass the value "
                 "at every call") from None


def _refuse_misplaced(stmts, source):
    """A def inside a branch or loop is bound only on some paths."""
    for stmt in stmts:
        for node in statements(stmt):
            if isinstance(node, gast.FunctionDef):
                raise source.error(
                    UnsupportedSyntaxError, f"srcad cannot differentiate the nested function "
                    f"{node.name!r} defined inside a branch or loop", node,
                    hint="define it at the top level of the function's body")


def _refuse_rebinding(fdef, nested, source):
    for node in _own_nodes(fdef)[0]:
        if isinstance(node, gast.Name) and node.id in nested \
                and isinstance(node.ctx, (gast.Store, gast.Param)):
            raise source.error(
                UnsupportedSyntaxError, f"srcad cannot differentiate {node.id!r}: the name is "
                f"bound both by a nested function and by an assignment", node,
                hint="give the nested function a name of its own")


def _refuse_calls_before_definition(body, nested, source):
    """Python raises NameError there; say so before any code runs."""
    for index, stmt in enumerate(body):
        if isinstance(stmt, gast.FunctionDef):
            continue                     # its body runs later; its defaults are constants
        for node in _own_nodes(stmt)[0]:
            if isinstance(node, gast.Name) and node.id in nested and nested[node.id].index > index:
                raise source.error(
                    UnsupportedSyntaxError, f"the nested function {node.id!r} is used "
                    f"before it is defined", node, hint="define it before its first use")


# -- scopes -------------------------------------------------------------------

def _own_nodes(root):
    """``(nodes, scopes)``: the nodes of the scope ``root`` opens (a function,
    lambda or comprehension; or a statement, in its enclosing scope), and the
    scopes nested directly inside it.  Defaults and decorators of a nested
    function belong to the enclosing scope: that is where they are evaluated."""
    nodes, scopes = [], []
    stack = list(_inside(root)) if isinstance(root, _SCOPES) else [root]
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            scopes.append(node)
            stack.extend(_evaluated_outside(node))
            continue
        nodes.append(node)
        stack.extend(gast.iter_child_nodes(node))
    return nodes, scopes


def _inside(scope):
    if isinstance(scope, _COMPREHENSIONS):
        parts = [scope.elt] if hasattr(scope, "elt") else [scope.key, scope.value]
        first, rest = scope.generators[0], scope.generators[1:]
        # the first iterable is evaluated outside (_evaluated_outside), not again here
        return parts + [first.target] + list(first.ifs) + list(rest)
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    return list(parameters(scope.args)) + body


def _evaluated_outside(scope):
    if isinstance(scope, _COMPREHENSIONS):
        return [scope.generators[0].iter]
    outside = list(scope.args.defaults) + [d for d in scope.args.kw_defaults if d is not None]
    return outside + list(getattr(scope, "decorator_list", []))


def _bound(scope):
    """Names bound in ``scope``: parameters, assignment targets, nested defs."""
    nodes, scopes = _own_nodes(scope)
    names = {n.id for n in nodes if isinstance(n, gast.Name)
             and isinstance(n.ctx, (gast.Store, gast.Param))}
    return names | {s.name for s in scopes if isinstance(s, gast.FunctionDef)}


def free_names(scope):
    """Names read in ``scope`` (or in scopes nested in it) that it does not bind."""
    nodes, scopes = _own_nodes(scope)
    read = {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    for inner in scopes:
        read |= free_names(inner)
    return read - _bound(scope)


def _local_order(fdef):
    """The enclosing function's local variables: parameters in order, then
    the other names in the order of their first assignment."""
    params = [p.id for p in parameters(fdef.args)]
    stores = sorted(((n.lineno, n.col_offset), n.id) for n in _own_nodes(fdef)[0]
                    if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
    order = {p: None for p in params}
    for _, name in stores:
        order.setdefault(name, None)
    return list(order)


def _lifted_names(nested, order):
    """For each nested function, the enclosing locals it reads, directly or
    through the nested functions it calls (which need them passed on)."""
    free = {name: free_names(item.node) for name, item in nested.items()}
    needs = {name: set(names) & set(order) for name, names in free.items()}
    changed = True
    while changed:
        changed = False
        for name, names in free.items():
            for callee in names & set(nested):
                if not needs[callee] <= needs[name]:
                    needs[name] |= needs[callee]
                    changed = True
    return {name: [v for v in order if v in needs[name]] for name in nested}


# -- rewriting the calls ----------------------------------------------------------

def _rewrite_calls(scope, visible, extra, source):
    """Pass the lifted names at every call of a nested function in ``scope``
    (and scopes inside it that do not rebind the name); refuse any other use."""
    nodes, scopes = _own_nodes(scope)
    callees = {id(n.func) for n in nodes if isinstance(n, gast.Call)}
    for node in nodes:
        if isinstance(node, gast.Name) and node.id in visible and id(node) not in callees \
                and extra[node.id]:        # one that reads no enclosing variable is a plain value
            raise source.error(
                UnsupportedSyntaxError, f"srcad cannot differentiate this use of the nested "
                f"function {node.id!r}: it reads {', '.join(extra[node.id])} of the enclosing "
                f"function, so it can only be called here", node,
                hint=f"pass {', '.join(extra[node.id])} to it as parameters, or define it at module "
                     "level, to pass it around as a value (map, sorted(key=...) and "
                     "functools.partial of it are fine)")
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in visible:
            _pass_lifted(node, extra[node.func.id], source)
    for inner in scopes:
        _rewrite_calls(inner, visible - _bound(inner), extra, source)


def _pass_lifted(call, names, source):
    """``g(a)`` -> ``g(a, w=w)``; a keyword of the same name is Python's TypeError."""
    for kw in call.keywords:
        if kw.arg in names:
            raise source.error(
                UnsupportedSyntaxError, f"{call.func.id}() has no parameter {kw.arg!r}: "
                f"the nested function reads the enclosing {kw.arg!r} instead", kw.value,
                hint=f"give {call.func.id} a parameter {kw.arg!r}, or do not pass it")
    call.keywords.extend(gast.keyword(arg=v, value=_name(v, origin=call)) for v in names)


def _add_parameters(node, names):
    """``def g(h, b=0.5)`` -> ``def g(h, b=0.5, *, w)``: required keyword-only
    parameters, so they never shift the user's positional ones."""
    node.args.kwonlyargs.extend(_param(v, node) for v in names)
    node.args.kw_defaults.extend(None for _ in names)


# -- function objects ---------------------------------------------------------------

def _functions(parsed, nested):
    """A closure cell per nested function, holding a real function object;
    made once per enclosing function, so the callee caches are shared by all
    its transformations."""
    with _lock:
        table = caches.table(parsed.func, "lifted")     # on the function: dies with it
        code, cells = table.get("cells", (None, None))
        if cells is None or code is not parsed.func.__code__ or set(cells) != set(nested):
            cells = {name: types.CellType() for name in nested}
            for name, item in nested.items():
                cells[name].cell_contents = _compile(parsed, item.node, cells)
            table["cells"] = (parsed.func.__code__, cells)
        return cells


def _compile(parsed, node, nested_cells):
    """The lifted ``node`` as a function over ``f``'s closure cells and the
    cells of ``f``'s nested functions, as Python would make it when running
    ``f``; its defaults are the constants :func:`_check_definition` allowed."""
    func, outer, source = parsed.func, parsed.namespace.cells, parsed.source
    captured = sorted(n for n in free_names(node) if n in nested_cells or n in outer)
    code = _code(node, captured, func.__name__, source.filename)
    closure = tuple(nested_cells[n] if n in nested_cells else outer[n] for n in code.co_freevars)
    defaults = tuple(_constant(d, node.name, source) for d in node.args.defaults)
    fn = types.FunctionType(code, func.__globals__, node.name, defaults or None, closure or None)
    fn.__kwdefaults__ = {p.id: _constant(d, node.name, source) for p, d in
                         zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None} or None
    fn.__qualname__ = f"{func.__qualname__}.<locals>.{node.name}"
    fn.srcad_nested = (node, source)
    return fn


def _code(node, captured, outer_name, filename):
    """The code object of ``node``, compiled inside a factory named after the
    enclosing function whose parameters are the ``captured`` names (so they
    become free variables).  File name and line numbers are the user's, so
    tracebacks through the lifted function point at their file."""
    factory = gast.FunctionDef(
        name=outer_name, args=gast.arguments(
            args=[_param(n, node) for n in captured], posonlyargs=[], vararg=None,
            kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[copy.deepcopy(node)], decorator_list=[], returns=None, type_comment=None,
        type_params=[])
    module = ast.fix_missing_locations(
        gast.gast_to_ast(gast.Module(body=[gast.copy_location(factory, node)], type_ignores=[])))
    code = compile(module, filename, "exec")
    factory_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return next(c for c in factory_code.co_consts
                if isinstance(c, types.CodeType) and c.co_name == node.name)
