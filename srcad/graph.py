"""Stage 3, graph: the computational graph of a normalized function.

Each statement of the A-normal form becomes a :class:`Node`: one primitive
(``operator.mul``, ``np.tanh``, ``np.ndarray.sum``...) applied to inputs,
producing one output, with the user's source line it came from.

Activity analysis marks the nodes the reverse sweep must visit: a value is
*varied* when it depends on a ``wrt`` parameter through differentiable
primitives, *useful* when the output depends on it, and *active* when both.
Only active nodes need a derivative rule, so an unknown function applied to
constants is no error, and a comparison (whose result is a constant) stops the
flow of derivatives.

Shape classes let the optimizer drop ``unbroadcast`` where an operand provably
has the shape of the result: equal classes mean equal shapes.  Elementwise
primitives propagate classes; a scalar output (which ``grad`` checks at run
time) makes the operands of an elementwise primitive scalars too.
"""

import inspect
import operator
import types

import gast
import numpy as np

import srcad.rules as rules
from srcad import alias
from srcad.builders import is_local as _is_local
from srcad.ir import Branch, Jump, Kind, Loop, Node, walk  # noqa: F401  (re-exported: the graph's items)
from srcad.errors import NonDifferentiableError, RuleError, UnknownPrimitiveError, UnsupportedSyntaxError
from srcad.normalize import param_names
from srcad.parse import is_library_function
from srcad.rules.template import template
from srcad.trees import clone
from srcad.sequences import mark_sequence_ops
from srcad.trees import name_nodes
from srcad.runtime import NotAnArray, check_inputs, check_scalar, identity, like, list_append, setitem

BINARY = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
    gast.Pow: operator.pow, gast.MatMult: operator.matmul, gast.LShift: operator.lshift,
    gast.RShift: operator.rshift, gast.BitOr: operator.or_, gast.BitXor: operator.xor,
    gast.BitAnd: operator.and_,
}
UNARY = {gast.USub: operator.neg, gast.UAdd: operator.pos, gast.Not: operator.not_,
         gast.Invert: operator.invert}
COMPARE = {
    gast.Eq: operator.eq, gast.NotEq: operator.ne, gast.Lt: operator.lt,
    gast.LtE: operator.le, gast.Gt: operator.gt, gast.GtE: operator.ge,
    gast.Is: operator.is_, gast.IsNot: operator.is_not, gast.In: operator.contains,
    gast.NotIn: operator.contains,
}
#: attributes of arrays that are constants for differentiation
CONSTANT_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}
#: attributes of arrays that are primitives
ATTRIBUTE_PRIMITIVES = {"T": np.transpose, "real": np.real}

ELEMENTWISE = {operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
               operator.neg, operator.pos, operator.mod, identity}
SCALAR_RESULTS = {len, float, abs}
#: global objects whose ``obj[i]`` is a lookup (an element), not a computation
CONTAINER_TYPES = (np.ndarray, list, tuple, dict, str, bytes, range, type(None))
#: methods of a local that arrays lack, read as the dict's (``d.get(k)``)
DICT_METHODS = {"get", "keys", "values", "items"}
#: their primitives: reading a value through one marks it as a dict
DICT_READS = {getattr(dict, method) for method in DICT_METHODS}


class Graph:
    """The computational graph of one function, ready for a derivative."""

    def __init__(self, parsed, fdef, nodes, output, wrt, body=(), wrt_is_tuple=False):
        self.parsed = parsed
        self.fdef = fdef              # A-normal form (gast)
        self.nodes = nodes
        self.body = list(body)        # the structured items: Node, Branch, Loop, Jump
        self.output = output          # the returned atom (gast)
        self.params = param_names(fdef)
        self.wrt = tuple(wrt)
        self.wrt_is_tuple = wrt_is_tuple  # the derivative returns a tuple, even of one
        self.scalar_output_proven = False  # set by pipeline.build for grad: no check_scalar
        self.varied = set()
        self.useful = set()
        self.shape_class = {}

    @property
    def name(self):
        return self.parsed.func.__name__

    def source_text(self, node):
        """The user's source line(s) that ``node`` comes from, on one line."""
        if node.lineno is None:
            return ""
        lines = [self.parsed.source.line(i) or "" for i in range(node.lineno, node.end_lineno + 1)]
        return " ".join(line.strip() for line in lines).strip()

    def line_text(self, lineno):
        """One line of the user's source, stripped."""
        return (self.parsed.source.line(lineno) or "").strip()

    #: how many levels of calls of the user's own functions are drawn expanded
    #: (srcad.graph sets it; see srcad/picture.py)
    expand = 0

    def __str__(self):
        from srcad import picture
        return picture.text(self)

    def to_dot(self):
        """The graph in Graphviz DOT, drawn to be read like the code.

        Values are ellipses (``wrt`` inputs blue, the output red), primitives
        boxes (active ones yellow) that show their constant arguments and
        keywords in place (``pow(·, 2)``, ``np.max(·, axis=1)``); each edge
        into a primitive is labelled with the argument's position, so
        ``a - b`` and ``b - a`` differ.  Loops and branches are labelled
        clusters (``for t in range(T)``, ``if c`` / ``else``), calls of the
        user's functions clusters holding the callee's graph.
        """
        from srcad import picture
        return picture.dot(self)

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))

    def _repr_svg_(self):
        """The picture in a notebook when Graphviz is installed (else the text)."""
        from srcad.display import dot_to_svg
        return dot_to_svg(self.to_dot())


def _loop_header(loop):
    if loop.kind == "for":
        return f"for {loop.target} in {gast_text(loop.stmt.iter)}"
    return f"while {gast_text(loop.stmt.test)}"


def _labelled_args(node):
    """``(keyword or None, atom)`` for a node's arguments, in the order written."""
    args = node.args if isinstance(node.args, (list, tuple)) else [node.args]
    items = [(None, a) for a in args]
    kwargs = node.kwargs or {}
    items += list(kwargs.items()) if isinstance(kwargs, dict) else [(None, a) for a in kwargs]
    return items


def _atom_text(atom):
    """How an argument reads in the user's code (``2``, ``axis=1``, ``x[:, 0]``)."""
    try:
        if isinstance(atom, IndexAtom):
            return f"[{gast_text(atom.index)}]"
        if isinstance(atom, (list, tuple)):
            return "[" + ", ".join(_atom_text(a) for a in atom) + "]"
        return gast_text(atom)
    except Exception:                  # noqa: BLE001 - a picture, never an error
        return "?"


def _atom_locals(atom):
    try:
        if isinstance(atom, (list, tuple)):
            return [n for a in atom for n in _atom_locals(a)]
        return list(dict.fromkeys(atom_names(atom)))
    except Exception:                  # noqa: BLE001
        return []


def _call_args(node):
    """The arguments of a node as the text form prints them, in order."""
    return [_atom_text(a) if key is None else f"{key}={_atom_text(a)}" for key, a in _labelled_args(node)]


def gast_text(expr):
    """The source text of a gast expression (a name chain without printing)."""
    dotted = _dotted(expr)
    if dotted is not None:
        return dotted
    import ast
    from srcad.codegen import to_ast
    return ast.unparse(to_ast(expr))


class GraphBuilder:
    """Turns A-normal-form statements into nodes, resolving each primitive."""

    def __init__(self, parsed, fdef):
        self.parsed = parsed
        self.source = parsed.source
        self.namespace = parsed.namespace
        self.fdef = fdef
        self._mark_locals()

    def _mark_locals(self):
        """Mark (``srcad_local``) every name of the function's own: its
        parameters and the names it assigns (one walk finds and marks them)."""
        nodes = name_nodes(self.fdef)
        self.locals = set(param_names(self.fdef)) | {n.id for n in nodes if type(n.ctx) is gast.Store}
        for node in nodes:
            if node.id in self.locals:
                node.srcad_local = True

    def build(self, wrt, wrt_is_tuple=False):
        self.nodes, self.output = [], None
        body = self.items(self.fdef.body)
        mark_sequence_ops(self.nodes, self.fdef,     # tuple + tuple concatenates
                          generated=getattr(self.parsed.func, "srcad_mode", None) is not None)
        return Graph(self.parsed, self.fdef, self.nodes, self.output, wrt, body, wrt_is_tuple)

    def items(self, stmts):
        """Structured items of a statement list: nodes, branches, loops, jumps."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.Return):
                self.output = stmt.value
            elif isinstance(stmt, gast.If):
                out.append(Branch(stmt, self.items(stmt.body), self.items(stmt.orelse)))
            elif isinstance(stmt, (gast.For, gast.While)):
                out.append(Loop(stmt, self.items(stmt.body)))
            elif isinstance(stmt, (gast.Break, gast.Continue)):
                out.append(Jump(stmt))
            else:
                node = self.node(stmt)
                self.nodes.append(node)
                out.append(node)
        return out

    def node(self, stmt):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
            sub = stmt.targets[0]
            base = gast.Name(id=sub.value.id, ctx=gast.Load(), annotation=None, type_comment=None)
            base.srcad_local = True
            return Node(stmt, sub.value.id, Kind.OP, setitem, [base, IndexAtom(sub.slice), stmt.value],
                        {}, "setitem")
        if _is_append(stmt):
            call = stmt.value
            base = gast.Name(id=call.func.value.id, ctx=gast.Load(), annotation=None, type_comment=None)
            base.srcad_local = True
            return Node(stmt, base.id, Kind.OP, list_append, [base, call.args[0]], {}, "append")
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0].id
            kind, prim, args, kwargs, label = self.classify(stmt.value)
            node = Node(stmt, target, kind, prim, args, kwargs, label)
            if isinstance(stmt.value, gast.Dict):
                node.keys = stmt.value.keys
            return node
        return Node(stmt, None, Kind.EFFECT, None, [], {}, type(stmt).__name__.lower())

    def classify(self, e):
        """(kind, primitive, args, kwargs, label) of a right-hand side."""
        if isinstance(e, gast.Name) and e.id in self.locals:
            return Kind.COPY, identity, [e], {}, "copy"
        if isinstance(e, gast.BinOp):
            prim = BINARY[type(e.op)]
            return Kind.OP, prim, [e.left, e.right], {}, prim.__name__
        if isinstance(e, gast.UnaryOp):
            prim = UNARY[type(e.op)]
            return Kind.OP, prim, [e.operand], {}, prim.__name__
        if isinstance(e, gast.Compare):
            prim = COMPARE[type(e.ops[0])]
            return Kind.OP, prim, [e.left] + list(e.comparators), {}, prim.__name__
        if isinstance(e, gast.Subscript):
            concat = self._index_concatenation(e)
            if concat is not None:
                return concat
            if not _is_local(e.value):
                helper = self._indexing_helper(e)
                if helper is not None:
                    return helper
            return Kind.OP, operator.getitem, [e.value, IndexAtom(e.slice)], {}, "getitem"
        if isinstance(e, gast.Attribute):
            return self._attribute(e)
        if isinstance(e, (gast.Tuple, gast.List)):
            return Kind.PACK, None, list(e.elts), {}, type(e).__name__.lower()
        if isinstance(e, gast.Dict):
            return Kind.PACK, None, list(e.values), {}, "dict"
        if isinstance(e, gast.Call):
            return self._call(e)
        return Kind.CONST, None, [], {}, "constant"

    def _index_concatenation(self, e):
        """``np.r_[x, y]`` and ``np.c_[...]`` build an array from their index:
        a call of ``r_concat(x, y)`` whose items carry derivatives (a slice
        among them, ``np.r_[0:3, x]``, keeps the plain subscript)."""
        from srcad.rules._np_helpers import INDEX_CONCATENATIONS
        if _is_local(e.value):
            return None
        prim = INDEX_CONCATENATIONS.get(id(self._resolve(e.value)))
        items = list(e.slice.elts) if isinstance(e.slice, gast.Tuple) else [e.slice]
        if prim is None or any(isinstance(i, gast.Slice) for i in items):
            return None
        return Kind.CALL, prim, items, {}, f"{gast_text(e.value)}[...]"

    def _indexing_helper(self, e):
        """``np.mgrid[0:3]``, ``np.r_[0:3, x]``, ``obj[x]`` on a global object
        that is not a container: its ``__getitem__`` computes from the index
        rather than looking an element up, so it must not become a constant.
        It is a call without a rule, refused when its items depend on ``wrt``
        (``np.s_[...]`` of constants stays a constant)."""
        obj = self._resolve(e.value)
        if obj is None or isinstance(obj, CONTAINER_TYPES):
            return None
        items = list(e.slice.elts) if isinstance(e.slice, gast.Tuple) else [e.slice]
        parts = [p for i in items for p in ((i.lower, i.upper, i.step) if isinstance(i, gast.Slice) else (i,))
                 if p is not None]
        return Kind.CALL, None, parts, {}, f"{gast_text(e.value)}[...]"

    def _attribute(self, e):
        if e.attr in CONSTANT_ATTRIBUTES:
            return Kind.OP, np.shape, [e.value], {}, f".{e.attr}"
        prim = ATTRIBUTE_PRIMITIVES.get(e.attr)
        if prim is None and _is_local(e.value) and not hasattr(np.ndarray, e.attr):
            return _object_attribute(e)
        return Kind.OP, prim, [e.value], {}, f".{e.attr}"

    def _call(self, e):
        func = e.func
        kwargs = {kw.arg: kw.value for kw in e.keywords}
        if isinstance(func, gast.Attribute) and _is_local(func.value):
            method = self._method_of_local(func)
            if method is not None:          # self.layer(x): the class's own function
                e.srcad_self_call = True
                return Kind.CALL, method, [func.value] + list(e.args), kwargs, f".{func.attr}"
            prim = getattr(np.ndarray, func.attr, None)   # a method of an array
            if prim is None and func.attr in DICT_METHODS:
                prim = getattr(dict, func.attr)
            return Kind.CALL, prim, [func.value] + list(e.args), kwargs, f".{func.attr}"
        label = gast_text(func)
        prim = self._resolve(func)
        return Kind.CALL, prim, list(e.args), kwargs, label

    def _resolve(self, expr):
        known = getattr(self.parsed.func, "srcad_known", None)
        if known and isinstance(expr, gast.Name) and expr.id in known:
            return known[expr.id]             # a function-valued parameter (srcad/calls.py)
        return self._resolve_static(self.namespace, expr)

    def _method_of_local(self, func):
        """The function ``Class.m`` that ``v.m(...)`` calls, when the class of
        the local ``v`` is known: ``v`` is ``self``, the first parameter of a
        method of ``Class`` (the function being transformed is
        ``Class.__dict__[name]``), or a parameter annotated with a class.  A
        subclass that overrides ``m`` makes the class unknown (srcad would
        call the wrong one); None then, and for anything but a plain function."""
        import inspect
        cls = self._class_of(func.value.id)
        if cls is None:
            return None
        method = inspect.getattr_static(cls, func.attr, None)
        if not inspect.isfunction(method) or _overridden(cls, func.attr, method):
            return None
        return method

    def _class_of(self, name):
        import inspect
        args = _parameters_of(self.fdef)
        for i, arg in enumerate(args):
            if arg.id != name:
                continue
            if arg.annotation is not None:
                found = self._resolve_static(self.namespace, arg.annotation)
                if inspect.isclass(found):
                    return found
            if i == 0:
                return _defining_class(self.parsed)
        return None

    @staticmethod
    def _resolve_static(namespace, expr):
        """The object a static callee expression names, or None if unknown."""
        if isinstance(expr, gast.Name):
            if getattr(expr, "srcad_local", False):
                return None
            return namespace.lookup(expr.id, None)
        if isinstance(expr, gast.Attribute):
            base = GraphBuilder._resolve_static(namespace, expr.value)
            if base is None:
                return None
            return namespace.attribute(base, expr.attr, _dotted(expr))
        if isinstance(expr, gast.Call):
            return _inline_transform(namespace, expr)
        return None


#: srcad's transforms whose result is generated code, which srcad differentiates again
INLINE_TRANSFORMS = ("grad", "value_and_grad", "vjp", "jvp")


def _inline_transform(namespace, call):
    """``srcad.grad(h, wrt=1)`` as the callee of a call (``srcad.grad(h)(x)``
    inside a differentiated function, as a Newton step writes it): the
    derivative itself, made now, which is a user function like any other (its
    generated source is differentiated again).  None unless the transform and
    its arguments are static (``Normalizer._is_static_transform`` kept the call)."""
    import srcad
    transform = GraphBuilder._resolve_static(namespace, call.func)
    if not any(transform is getattr(srcad, name) for name in INLINE_TRANSFORMS):
        return None
    args = [_transform_argument(namespace, a) for a in call.args]
    kwargs = {kw.arg: _transform_argument(namespace, kw.value) for kw in call.keywords}
    if any(a is _UNKNOWN for a in args) or any(v is _UNKNOWN for v in kwargs.values()):
        return None
    return transform(*args, **kwargs)


_UNKNOWN = object()


def _transform_argument(namespace, expr):
    """The value of a static argument of a transform: a constant, a tuple of
    them, or a global (a function)."""
    if isinstance(expr, gast.Constant):
        return expr.value
    if isinstance(expr, gast.Tuple):
        items = [_transform_argument(namespace, e) for e in expr.elts]
        return _UNKNOWN if _UNKNOWN in items else tuple(items)
    if isinstance(expr, (gast.Name, gast.Attribute)) and not getattr(expr, "srcad_local", False):
        found = GraphBuilder._resolve_static(namespace, expr)
        return _UNKNOWN if found is None else found
    return _UNKNOWN


def _parameters_of(fdef):
    from srcad.trees import parameters
    return list(parameters(fdef.args))


def _defining_class(parsed):
    """The class whose plain method the transformed function is (found
    through its qualified name in its module), or None."""
    import inspect
    func = parsed.func
    parts = func.__qualname__.split(".")
    if len(parts) < 2 or "<locals>" in parts:
        return None
    owner = parsed.namespace.lookup(parts[0], None)
    for part in parts[1:-1]:
        owner = getattr(owner, part, None)
    if inspect.isclass(owner) and owner.__dict__.get(parts[-1]) is func:
        return owner
    return None


def _overridden(cls, name, method):
    """True when a subclass of ``cls`` (loaded now) defines ``name`` anew."""
    todo = list(cls.__subclasses__())
    while todo:
        sub = todo.pop()
        if name in sub.__dict__ and sub.__dict__[name] is not method:
            return True
        todo.extend(sub.__subclasses__())
    return False


def _dotted(expr):
    """``"mod.h"`` for an attribute chain of names, else None."""
    parts = []
    while isinstance(expr, gast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, gast.Name):
        return None
    return ".".join([expr.id, *reversed(parts)])


def _object_attribute(e):
    """``p.W`` on a local value, for a name arrays do not have: the field of a
    namedtuple or an attribute of a dataclass or object (srcad/objects.py),
    whose adjoint goes back to that attribute."""
    from srcad.objects import attribute
    return Kind.OP, attribute, [e.value, gast.Constant(value=e.attr, kind=None)], {}, "getattr"


def _is_append(stmt):
    """``L.append(v)`` on a local list: an in-place update of ``L``."""
    value = getattr(stmt, "value", None)
    return (isinstance(stmt, gast.Expr) and isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute) and value.func.attr == "append"
            and _is_local(value.func.value) and len(value.args) == 1 and not value.keywords)


class IndexAtom:
    """The index of a subscript, kept as syntax (it may contain slices)."""

    def __init__(self, index):
        self.index = index

    def names(self):
        return [n.id for n in gast.walk(self.index) if isinstance(n, gast.Name)]


def atom_names(atom):
    """Local names an atom (or sequence / index atom) reads."""
    if type(atom) is gast.Name:                  # most atoms: no walk needed
        return [atom.id] if getattr(atom, "srcad_local", False) else []
    if type(atom) is gast.Constant:
        return []
    tree = atom.index if isinstance(atom, IndexAtom) else atom
    return [n.id for n in name_nodes(tree) if getattr(n, "srcad_local", False)]


# -- activity analysis -----------------------------------------------------------

def analyze(graph, forward=False):
    """Mark varied, useful and active values; attach rules to active nodes
    (forward rules when ``forward``; stack pushes and pops are not rules)."""
    constants = _saved_constants(graph)
    results = _constant_results(graph)
    varied = varied_from(graph, graph.wrt, constants, results)
    useful = set(atom_names(graph.output)) if graph.output is not None else set()
    changed = True
    while changed:
        changed = False
        for node in reversed(graph.nodes):
            # a constant result (a sort order, a shape) passes no derivative to its inputs
            if node.target in useful and node not in results and not set(node.inputs) <= useful:
                useful.update(node.inputs)
                changed = True
    graph.varied, graph.useful = varied, useful
    _check_integer_uses(graph)
    alias.check_calls(graph)          # calls that write into their arguments
    for node in graph.nodes:
        node.active = (node.target in useful and node not in results and node not in constants
                       and any(n in varied for a in _diff_atoms(node) for n in atom_names(a)))
        if node.active and node.kind not in (Kind.PACK, Kind.PUSH, Kind.POP, Kind.UNAPPEND, Kind.RESTORE):
            _attach_rule(graph, node, forward)
        elif node.kind == Kind.EFFECT:
            _check_effect(graph, node, varied)
    alias.check_writes(graph)
    infer_shape_classes(graph)
    return graph


def varied_from(graph, sources, constants=(), results=None):
    """The values that depend on ``sources`` through differentiable primitives
    (the nodes in ``constants`` give constants; ``results``: the graph's
    :func:`_constant_results`, when the caller has them)."""
    if results is None:
        results = _constant_results(graph)
    varied = set(sources)
    changed = True
    while changed:                    # loops carry values around: iterate to a fixpoint
        changed = False
        for node in graph.nodes:
            if node.target is None or node.target in varied or node in results \
                    or node in constants:
                continue
            if any(n in varied for a in _diff_atoms(node) for n in atom_names(a)):
                varied.add(node.target)
                changed = True
    return varied


def _saved_constants(graph):
    """In the reverse half of a split (differentiated again), the nodes that
    unpack a saved value its forward half computed without a derivative
    (``gt_p = saved[0]`` of ``gt_p = p > 0.5``; ``srcad_constant``, see
    ``reverse.splits._constant_saved``): constants, though ``saved`` is varied."""
    names = getattr(graph.parsed.func, "srcad_constant", None)
    own = getattr(graph.parsed.func, "srcad_saved", None)
    if not names:
        return set()
    return {n for n in graph.nodes if n.target in names and n.primitive is operator.getitem
            and isinstance(n.args[0], gast.Name) and n.args[0].id == own}
#: array constructors and the positions (and names) of their integer arguments
INTEGER_ARGUMENTS = {np.zeros: ((0, "shape"),), np.ones: ((0, "shape"),),
                     np.empty: ((0, "shape"),), np.full: ((0, "shape"),),
                     np.eye: ((0, "N"), (1, "M")), np.identity: ((0, "n"),),
                     np.tri: ((0, "N"), (1, "M")), np.linspace: ((2, "num"),)}


def _check_integer_uses(graph):
    """Refuse a value that depends on ``wrt`` used where Python needs an integer:
    a ``range`` bound or the shape of an array constructor (``np.zeros(n)``).
    Such a value is an integer (``f`` raises otherwise), so ``wrt`` names an
    integer parameter, whose derivative does not exist: without this check
    the gradient would silently be 0.  Generated code differentiated again is
    not checked: its first derivative was, and its loop counters come from
    saved values that carry no derivative."""
    if getattr(graph.parsed.func, "srcad_mode", None) is not None:
        return

    def refuse(atom, what, where):
        raise graph.parsed.source.error(
            NonDifferentiableError,
            f"{what} depends on {', '.join(graph.wrt)}: it must be an integer, and an integer "
            "carries no derivative", where,
            hint="leave integer parameters out of wrt (name only the float and array "
                 "parameters, e.g. wrt=0)")

    def varied(atom):
        return isinstance(atom, gast.AST) and any(n in graph.varied for n in atom_names(atom))

    for item in walk(graph.body):
        if isinstance(item, Loop):
            it = item.stmt.iter if item.kind == "for" else None
            if isinstance(it, gast.Call) and GraphBuilder._resolve_static(
                    graph.parsed.namespace, it.func) is range:
                for arg in it.args:
                    if varied(arg):
                        refuse(arg, "this range bound", it)
        elif isinstance(item, Node):
            for position, name in INTEGER_ARGUMENTS.get(item.primitive, ()):
                atom = item.kwargs.get(name, item.args[position] if position < len(item.args) else None)
                if varied(atom):
                    refuse(atom, f"the {name} argument of {item.label}", item.stmt.value)


#: calls whose only effect is output or a check: harmless on values that carry
#: derivatives (check_scalar is in the generated gradient code srcad.grad differentiates)
HARMLESS_EFFECTS = {print, check_scalar, check_inputs}


def _check_effect(graph, node, varied):
    """A call made for its effect (``L.append(x)``, ``np.copyto(a, x)``) on a
    value that depends on ``wrt`` could change data srcad does not follow:
    refuse it rather than return a silently wrong gradient."""
    value = getattr(node.stmt, "value", None)
    if not isinstance(value, gast.Call):
        return
    names = [n.id for n in gast.walk(value)
             if isinstance(n, gast.Name) and getattr(n, "srcad_local", False)]
    touched = [n for n in names if n in varied]
    func = value.func
    callee = GraphBuilder._resolve_static(graph.parsed.namespace, func)
    if not touched or callee in HARMLESS_EFFECTS or isinstance(callee, NotAnArray):
        return
    generated = getattr(graph.parsed.func, "srcad_mode", None)
    if not generated and _outward_effect(graph, func):
        return                     # LOG.append(loss), plt.plot(x): runs once, as written
    if _plain_user_function(callee) and not generated:
        # plot_matrix(ax, smoke, t) for its effect: it runs once, as written, and
        # receives the arrays that carry derivatives read-only (runtime.readonly),
        # so an in-place write to them is an error rather than a wrong gradient
        node.readonly = sorted(set(touched))
        return
    if getattr(graph.parsed.func, "srcad_mode", None) and getattr(func, "attr", None) == "push":
        raise _loop_stacks(graph.parsed.source.error(
            NonDifferentiableError,
            "reverse mode cannot differentiate the loop stacks of a generated gradient "
            f"({gast_text(func)}(...) saves a value that depends on {', '.join(graph.wrt)})", value,
            hint="for second derivatives of loops use srcad.hessian or srcad.hvp (forward "
                 "over reverse), or srcad.jvp of the gradient"))
    if getattr(graph.parsed.func, "srcad_mode", None):      # L.pop(), restore_entry(d, k, old)
        # (forward mode follows them: forward.mark_stacks makes them nodes)
        raise _loop_stacks(graph.parsed.source.error(
            NonDifferentiableError,
            f"reverse mode over a gradient (grad of grad) cannot follow {gast_text(func)}(...), "
            "which undoes a list append or dict entry assignment made in a loop or branch",
            value, hint="for second derivatives use srcad.hessian or srcad.hvp (forward over "
                        "reverse), or srcad.jvp of the gradient"))
    raise graph.parsed.source.error(
        NonDifferentiableError,
        f"srcad cannot follow the side effect of {gast_text(func)}(...) on a value "
        f"that depends on {', '.join(graph.wrt)}", value,
        hint="assign the result instead (y = f(x)); build a list with a list literal "
             "or np.stack, not by mutating it")


#: modules whose functions, called as statements, only show values (plots, logs)
OUTPUT_MODULES = {"matplotlib", "logging", "warnings", "pprint", "tqdm"}


def _outward_effect(graph, func):
    """A call statement whose effect leaves the function without coming back:
    a method of a global or closure object that the function reads nowhere
    else (``LOG.append(loss)``, ``recorder.record(loss)``, ``ax.plot(x)``), or
    a function of a plotting or logging module (``plt.plot(x)``,
    ``logging.info(...)``).  It runs as written, once per forward sweep;
    nothing it changes can flow into the differentiated result.  (The
    convention, docs/conventions.md: it must not modify the values passed.)"""
    root = func
    while isinstance(root, gast.Attribute):
        root = root.value
    if not isinstance(root, gast.Name) or getattr(root, "srcad_local", False):
        return False
    import types
    namespace = graph.parsed.namespace
    if isinstance(func, gast.Attribute) and _only_receiver(graph, root.id) \
            and not isinstance(namespace.lookup(root.id, None), types.ModuleType):
        return True
    target = GraphBuilder._resolve_static(namespace, func)
    module = getattr(target, "__module__", None) or ""
    return module.partition(".")[0] in OUTPUT_MODULES


def _only_receiver(graph, name):
    """True when every read of the non-local ``name`` in the function is the
    object whose method a call statement calls (nothing it holds is read)."""
    callers = set()
    for stmt in gast.walk(graph.fdef):
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            part = stmt.value.func
            while isinstance(part, gast.Attribute):
                part = part.value
            if isinstance(part, gast.Name) and part.id == name and part is not stmt.value.func:
                callers.add(id(part))
    reads = [n for n in gast.walk(graph.fdef) if isinstance(n, gast.Name) and n.id == name]
    return bool(reads) and all(id(n) in callers for n in reads)


def _loop_stacks(error):
    """Mark the refusal that ``srcad.grad`` of a gradient answers in forward mode."""
    error.loop_stacks = True
    return error


def _plain_user_function(obj):
    """A Python function of the user's (not NumPy's, SciPy's or srcad's own)."""
    module = getattr(obj, "__module__", "") or ""
    return isinstance(obj, types.FunctionType) and module.partition(".")[0] != "srcad" \
        and not is_library_function(obj)


def readonly_effect(node, wrap):
    """The statement of an effect ``node`` marked by :func:`_check_effect`, with
    each argument name that carries derivatives wrapped as ``wrap(name)``."""
    marked = set(node.readonly)

    class Wrap(gast.NodeTransformer):
        def visit_Name(self, n):
            if type(n.ctx) is gast.Load and n.id in marked:
                return gast.Call(func=wrap(), args=[n], keywords=[])
            return n

    stmt = clone(node.stmt)
    call_ = stmt.value
    call_.args = [Wrap().visit(a) for a in call_.args]
    call_.keywords = [gast.keyword(arg=k.arg, value=Wrap().visit(k.value)) for k in call_.keywords]
    return stmt


def _diff_atoms(node):
    if node.kind == Kind.OP and node.primitive is operator.getitem:
        return node.args[:1]            # the index carries no derivative
    if node.primitive is setitem:
        return [node.args[0], node.args[2]]
    return list(node.args) + list(node.kwargs.values())


def _constant_results(graph):
    """The nodes of ``graph`` whose result is a constant (:func:`_constant_result`),
    found once for the fixpoint loops that ask on every pass."""
    return {node for node in graph.nodes if _constant_result(node)}


def _constant_result(node):
    if node.kind == Kind.CONST:
        return True
    prim = node.primitive
    return prim is not None and (rules.is_nondifferentiable(prim) or prim is np.shape)


def _attach_rule(graph, node, forward=False):
    source = graph.parsed.source
    where = node.stmt.value
    _refuse_unknown_spread(graph, node)
    lookup = rules.lookup_tangent if forward else rules.lookup
    rule = lookup(node.primitive) if node.primitive is not None else None
    if rule is None and node.kind == Kind.CALL and _is_user_function(node.primitive):
        _refuse_first_order_helper(graph, node)
        _attach_callee(graph, node)
        return
    if rule is None:
        _refuse_unknown_callee(graph, node)
        what = node.label if node.primitive is None else _describe_callable(node.primitive, node.label)
        label = node.label.lstrip('.')
        how = (f"@srcad.tangent({label}) over `def rule(x_dot, ans, x): return <tangent>`"
               if forward else
               f"@srcad.adjoint({label}) over `def rule(g, ans, *args): return <gradient>`")
        library = (" (a function of an installed library: srcad reads only your code's source)"
                   if node.primitive is not None and is_library_function(node.primitive) else "")
        if getattr(node.primitive, "srcad_opaque", False):
            library = " (a helper of a derivative rule, which srcad does not differentiate again)"
        hint = (f"register one with {how}, or mark it non-differentiable with "
                f"srcad.nondifferentiable(...) if its result carries no derivative")
        if node.primitive is None and node.kind == Kind.CALL and node.label.startswith("."):
            what = f"the method {node.label} of a value computed in this function"
            hint = ("srcad knows the methods of NumPy arrays; call a function that has a rule "
                    "instead (for a frozen SciPy distribution, the distribution's own method: "
                    "stats.norm.logpdf(x, loc, scale), not stats.norm(loc, scale).logpdf(x))")
        raise source.error(
            UnknownPrimitiveError,
            f"srcad has no {'forward ' if forward else ''}derivative rule for {what}{library}", where,
            hint=hint)
    tmpl = template(rule)
    args = [a.index if isinstance(a, IndexAtom) else a for a in node.args]
    try:
        binding = tmpl.bind(args, node.kwargs)
    except TypeError as exc:
        raise source.error(
            RuleError, f"the derivative rule of {node.label} does not accept this call: {exc}",
            where, hint="call it with the arguments the rule lists: "
                        f"{tmpl.name}{tmpl.signature}") from None
    for param, atom in binding.items():
        if not isinstance(atom, gast.AST) or not any(n in graph.varied for n in atom_names(atom)):
            continue
        if not tmpl.differentiable(param) and node.primitive is operator.getitem:
            raise source.error(
                NonDifferentiableError,
                f"the index of this subscript depends on {', '.join(graph.wrt)}, and an index "
                f"carries no derivative", where,
                hint="index with constants, loop counters or integers computed from them; to loop "
                     "over a dict, write `for k in d.keys()` or `for k, v in d.items()`")
        if not tmpl.differentiable(param) and (node.primitive, param) in PIECEWISE_CONSTANT:
            continue
        if not tmpl.differentiable(param) and node.primitive is setitem:
            raise source.error(
                NonDifferentiableError,
                f"the key or index of this assignment depends on {', '.join(graph.wrt)} (for "
                f"instance, it comes out of a container that also holds differentiated values), "
                f"and an index carries no derivative", where,
                hint="keep keys in a container of their own (zip(keys, values)), build the dict "
                     "with dict(pairs), or compute indices from constants and loop counters")
        if not tmpl.differentiable(param):
            raise source.error(
                NonDifferentiableError,
                f"srcad cannot differentiate {node.label} with respect to its "
                f"argument {param!r}, which depends on {', '.join(graph.wrt)}", where,
                hint=f"pass a constant as {param!r}, or register a rule that "
                     f"differentiates it")
    node.rule, node.binding = tmpl, binding




def _refuse_unknown_callee(graph, node):
    """``g(x)`` where ``g`` is a local value: a function made or chosen when
    the code runs (``g = make(3.0)``, a parameter reassigned in a branch),
    which srcad cannot read when it transforms."""
    func = getattr(node.stmt.value, "func", None)
    if node.kind != Kind.CALL or node.primitive is not None or not isinstance(func, gast.Name) \
            or not getattr(func, "srcad_local", False):
        return
    name = func.id
    raise graph.parsed.source.error(
        UnsupportedSyntaxError,
        f"srcad cannot tell which function {name!r} is when it transforms "
        f"{graph.parsed.func.__qualname__}: {name!r} is computed when the code runs",
        node.stmt.value,
        hint="call a function srcad can name here: one defined at module level or nested in "
             "this function, or a parameter that is not reassigned (srcad specialises the "
             "derivative on the function each call passes, as for act=np.tanh)")


def _refuse_unknown_spread(graph, node):
    """``f(*t)`` / ``f(**d)`` where the normalizer could not see what ``t``
    holds (normalize.Normalizer._spread): fine for a constant, but the
    arguments of an active call must be known to bind their derivatives."""
    spread = [a.value for a in node.args if isinstance(a, gast.Starred)] + \
             [v for k, v in node.kwargs.items() if k is None]
    if spread:
        star = "*" if any(isinstance(a, gast.Starred) for a in node.args) else "**"
        name = gast_text(spread[0])
        raise graph.parsed.source.error(
            UnsupportedSyntaxError,
            f"srcad cannot differentiate this call with {star}{name}: it cannot tell which "
            f"arguments {name} holds", node.stmt.value,
            hint=f"build {name} in this function as a literal ({name} = (a, b) or "
                 f"{name} = {{'k': v}}) before the call, or pass the arguments explicitly")
#: (primitive, parameter) pairs whose result is piecewise constant in that
#: parameter, so its derivative there is zero: np.where's condition is read as
#: booleans (the pow rule's np.where(y, y - 1, 1.0), whose y a split callee's
#: saved values carry into third derivatives)
PIECEWISE_CONSTANT = {(np.where, "condition")}


def _refuse_first_order_helper(graph, node):
    """A helper of a NumPy rule's gradient that srcad does not differentiate
    again (``srcad.rules._np_helpers.FIRST_ORDER``): refused at the gradient's
    line, instead of reading srcad's own source."""
    fn = getattr(node.primitive, "__func__", node.primitive)
    if getattr(fn, "srcad_first_order", False):
        raise graph.parsed.source.error(
            UnknownPrimitiveError,
            f"srcad does not take second derivatives through {fn.__name__} (part of the "
            f"derivative of a NumPy function)", node.stmt.value,
            hint="the first derivative works; for a second one, write this part with "
                 "primitives srcad differentiates twice, or register rules for "
                 f"srcad.rules._np_helpers.{fn.__name__}")


def _is_user_function(obj):
    """A Python function of the user's that srcad can read and transform (not a
    C function, nor a function of NumPy, SciPy or another installed library:
    those are primitives and need a rule)."""
    import inspect
    obj = getattr(obj, "__func__", obj)             # staticmethod / bound method
    return inspect.isfunction(obj) and not is_library_function(obj)   # generated code too


def _attach_callee(graph, node):
    """A call of a user function: the callee is differentiated too (split into
    a forward and a reverse function) w.r.t. the parameters that receive
    active arguments at this call site."""
    callee = getattr(node.primitive, "__func__", node.primitive)
    node.bound_self = _bound_self(graph, node)
    callee = _specialised_callee(graph, callee, node)
    arguments = _bind_call(graph.parsed.source, callee, node)
    if getattr(node.stmt.value, "srcad_self_call", False):   # self.layer(x): forward_layer(self, x)
        node.bound_self = clone(node.args[0])
    active = [p for p, atom in arguments.items() if _carries_derivative(graph, atom)]
    for param in active:
        if isinstance(arguments[param], dict):
            raise graph.parsed.source.error(
                NonDifferentiableError,
                f"srcad cannot yet differentiate {callee.__qualname__} through its "
                f"**{param} parameter", node.stmt.value,
                hint="give the function named parameters for the differentiated values")
    node.refine(Kind.USERCALL, callee=callee, arguments=arguments, callee_wrt=tuple(active),
                binding={p: arguments[p] for p in active})


def _specialised_callee(graph, callee, node):
    """The callee this call runs, specialised (srcad/calls.py) where the
    call says more than its signature: its ``**kwargs`` become keyword-only
    parameters named by this call's keywords (and a ``*args`` it forwards,
    ``fn(*args)``, one parameter per argument), and a parameter that
    receives a function known here (``act=np.tanh`` passed, or as its
    default) calls that function, so its rule or its own derivative is used."""
    from srcad.calls import forwards_varargs, specialise
    flags = callee.__code__.co_flags
    double = bool(flags & inspect.CO_VARKEYWORDS)
    star = bool(flags & inspect.CO_VARARGS) and (double or forwards_varargs(callee))
    spread = any(isinstance(a, gast.Starred) for a in node.args) or None in node.kwargs
    if spread:
        return callee
    params = list(inspect.signature(callee, follow_wrapped=False).parameters.values())
    named = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    given = len(node.args) + (1 if node.bound_self is not None else 0)
    n_extra = max(given - len(positional), 0) if star else None
    keywords = [k for k in node.kwargs if k not in named] if double else None
    known = _known_functions(graph, callee, node, params)
    if n_extra is None and keywords is None and not known:
        return callee
    return specialise(callee, n_extra, keywords, known)


def _known_functions(graph, callee, node, params):
    """``{parameter: function}`` for the parameters of ``callee`` that this
    call binds to a function srcad can name now: a module-level or NumPy
    function passed by name, a function-valued parameter of the caller that
    is itself known, or the parameter's default when the call leaves it out."""
    from srcad.calls import is_function_value
    try:
        bound_self = [node.bound_self] if node.bound_self is not None else []
        bound = inspect.signature(callee, follow_wrapped=False).bind(
            *bound_self, *node.args, **node.kwargs).arguments
    except TypeError:
        return {}
    known = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in bound:
            value = _static_value(graph, bound[p.name])
        else:
            value = p.default
            graph.parsed.namespace.facts.identity(callee, "__defaults__")
            graph.parsed.namespace.facts.identity(callee, "__kwdefaults__")
        if is_function_value(value):
            known[p.name] = value
    return known


def _static_value(graph, atom):
    """The object an argument atom names when srcad knows it now, else None."""
    if isinstance(atom, gast.Name) and getattr(atom, "srcad_local", False):
        known = getattr(graph.parsed.func, "srcad_known", None) or {}
        return known.get(atom.id)
    if isinstance(atom, (gast.Name, gast.Attribute)):
        return GraphBuilder._resolve_static(graph.parsed.namespace, atom)
    return None


def _bound_self(graph, node):
    """The expression generated code passes as ``self`` when the call is of a
    bound method (``model.energy(x, y)``): the object before the dot when it
    is the one bound, else ``<callee>.__self__`` (a classmethod called on an
    instance, a bound method stored under a name).  None for other calls."""
    import inspect
    if not inspect.ismethod(node.primitive):
        return None
    func = node.stmt.value.func
    if isinstance(func, gast.Attribute) and \
            GraphBuilder._resolve_static(graph.parsed.namespace, func.value) is node.primitive.__self__:
        return clone(func.value)
    return gast.Attribute(value=clone(func), attr="__self__", ctx=gast.Load())


def _bind_call(source, callee, node):
    """The call's atoms by the callee's parameter name, in signature order.

    The atoms bound to ``*args`` become one tuple literal: the callee receives
    a tuple there, and a literal's adjoint (or tangent) is split among, or
    gathered from, its elements like any other.  ``**kwargs`` stays a dict.
    """
    import inspect
    try:
        signature = inspect.signature(callee, follow_wrapped=False)  # not __wrapped__'s
        bound_self = [node.bound_self] if getattr(node, "bound_self", None) is not None else []
        bound = signature.bind(*bound_self, *node.args, **node.kwargs)
    except TypeError as exc:
        raise source.error(RuleError, f"this call does not fit {callee.__qualname__}: {exc}",
                           node.stmt.value, hint="check the arguments of the call") from None
    arguments = {}
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            elts = list(bound.arguments.get(param.name, ()))
            arguments[param.name] = gast.Tuple(elts=elts, ctx=gast.Load())
        elif param.name in bound.arguments:
            arguments[param.name] = bound.arguments[param.name]
    return arguments


def _carries_derivative(graph, atom):
    """True when an argument (an atom, a literal, or a dict of them) depends on ``wrt``."""
    atoms = atom.values() if isinstance(atom, dict) else (atom,)
    return any(isinstance(a, gast.AST) and any(n in graph.varied for n in atom_names(a)) for a in atoms)


def _describe_callable(obj, label):
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or label
    module = getattr(obj, "__module__", None)
    return f"{module}.{name}" if module and module != "builtins" else f"{name!s}"


# -- shape classes ----------------------------------------------------------------

SCALAR = "()"


def infer_shape_classes(graph, scalar_output=False):
    """Group values whose shapes are provably equal on every run.

    A class is a value's name (or ``SCALAR`` for 0-d values).  Elementwise
    primitives give their result the class of their non-scalar operands when
    those agree; full reductions and ``math`` functions give scalars; and when
    an elementwise result is a scalar, so are its operands (broadcasting can
    only grow shapes).  Values assigned more than once keep no class.
    """
    classes = UnionFind()
    defs = {p: 1 for p in graph.params}
    for node in graph.nodes:
        if node.target is not None:
            defs[node.target] = defs.get(node.target, 0) + 1
    stable = {name for name, n in defs.items() if n == 1}
    shapes = {node.target for node in graph.nodes if node.primitive is np.shape and node.target in stable}

    def class_of(atom):
        if isinstance(atom, gast.Name) and getattr(atom, "srcad_local", False):
            return classes.find(atom.id) if atom.id in stable else None
        if isinstance(atom, gast.Constant) and type(atom.value) in (int, float):
            return SCALAR
        return None

    roles = _shape_roles(graph.nodes, stable, shapes)
    changed = True
    while changed:
        changed = False
        if scalar_output and isinstance(graph.output, gast.Name) and graph.output.id in stable:
            changed |= classes.union(graph.output.id, SCALAR)
        for node, role in roles:
            t = node.target
            if role is _SCALAR_ROLE:
                changed |= classes.union(t, SCALAR)
                continue
            if role is _LIKE_ROLE:           # like(g, x): g's shape, which is x's
                for a in node.args[:2]:
                    if class_of(a) is not None:
                        changed |= classes.union(t, class_of(a))
                continue
            operands = [class_of(a) for a in node.args]
            if None in operands:
                continue
            shaped = {c for c in operands if c != SCALAR}
            if len(shaped) <= 1:
                changed |= classes.union(t, shaped.pop() if shaped else SCALAR)
            if classes.find(t) == SCALAR:
                for a in node.args:
                    if isinstance(a, gast.Name) and a.id in stable:
                        changed |= classes.union(a.id, SCALAR)
    graph.shape_class = {name: classes.find(name) for name in stable}
    return graph.shape_class


_SCALAR_ROLE, _LIKE_ROLE, _ELEMENTWISE_ROLE = "scalar", "like", "elementwise"


def _shape_roles(nodes, stable, shapes):
    """``(node, role)`` for the nodes whose target is in ``stable`` and that say
    something of its shape, in order: a scalar, ``like``'s, or an elementwise
    result.  A node's role does not change between the passes of
    :func:`infer_shape_classes`, so each is found once."""
    roles = []
    for node in nodes:
        if node.target not in stable:
            continue
        if _scalar_result(node) or _shape_entry(node, shapes):
            roles.append((node, _SCALAR_ROLE))
        elif node.primitive is like:
            roles.append((node, _LIKE_ROLE))
        elif _elementwise(node.primitive) and not node.kwargs:
            roles.append((node, _ELEMENTWISE_ROLE))
    return roles


class UnionFind:
    def __init__(self):
        self.parent = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        """Merge the classes of a and b (SCALAR stays the root); True if changed."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb == SCALAR:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def _scalar_result(node):
    prim = node.primitive
    if prim in SCALAR_RESULTS:
        return True
    if getattr(prim, "__module__", None) == "math":
        return True
    return _full_reduction(node)


def _shape_entry(node, shapes):
    """``n = s[0]`` where ``s = x.shape``: an int."""
    value = getattr(node.stmt, "value", None)
    return (node.primitive is operator.getitem and isinstance(value, gast.Subscript)
            and isinstance(value.value, gast.Name) and value.value.id in shapes
            and isinstance(value.slice, gast.Constant) and type(value.slice.value) is int)


def _elementwise(prim):
    if prim in ELEMENTWISE:
        return True
    return isinstance(prim, np.ufunc) and prim.nin in (1, 2) and prim is not np.matmul


#: the reductions, by identity (``id``: a primitive need not be hashable)
_REDUCTIONS = {id(r) for r in (np.sum, np.mean, np.prod, np.max, np.min, np.var, np.std,
                               np.ndarray.sum, np.ndarray.mean, np.ndarray.prod, np.ndarray.max,
                               np.ndarray.min, np.ndarray.var, np.ndarray.std)}


def _full_reduction(node):
    if id(node.primitive) not in _REDUCTIONS:
        return False
    extra = len(node.args) > 1 or any(k in node.kwargs for k in ("axis", "keepdims"))
    return not extra


def statement_of(node, ref):
    """The forward statement of ``node`` as generated code writes it: the
    graph's own (shared, never mutated), or a copy calling the faster function
    its primitive is declared :func:`~srcad.rules.registry.computed_by`
    (``ref(obj, wanted)`` names that function in generated code)."""
    fast = rules.registry.faster(node.primitive) if node.primitive is not None else None
    if fast is None or not isinstance(node.stmt, gast.Assign) or not isinstance(node.stmt.value, gast.Call):
        return node.stmt
    stmt = clone(node.stmt)
    stmt.value.func = ref(fast, fast.__name__)
    return stmt
