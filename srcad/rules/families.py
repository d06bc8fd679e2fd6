"""Rules declared once: a forward rule derived from its reverse twin, a table
of one-line derivatives, a family of rules written once for several primitives.

A rule is a plain function whose *source* the generators parse and inline
(:mod:`srcad.rules.template`), and which the tests call and read.  So a rule
made from a declaration must have source too: :func:`define` writes it,
compiles it in the globals of the rule module that declares it (the rule reads
that module's names, ``np``, ``unbroadcast``..., as one written out by hand
does, and is named after that module) and registers the text with
:mod:`linecache`, where ``inspect.getsource`` finds it.  The text is what the
rule would be written out as, so the generated code is the same.

- :func:`elementwise`: a decorator over a reverse rule that applies to ``g``
  a symmetric Jacobian (its own transpose): a diagonal one, as in
  ``unbroadcast(g * f'(x), x)`` for an elementwise function, or a mask or an
  involution (``tril``, ``swapaxes``, the identity).  Its forward rule is the
  same formula with the tangent in place of ``g``: registered too, named
  ``<rule>_tangent``.  With ``rename`` it also serves a
  rule that hands ``g`` to a helper whose forward counterpart takes the
  tangent in the same place (``eigh_adjoint(g, ans, UPLO)`` and
  ``eigh_tangent(a_dot, ans, UPLO)``; :func:`delegated` says so).
- :func:`unary`: a table of one-argument functions, one row each: the name,
  the primitives and ``g`` times the derivative; each row becomes a reverse
  rule and, through :func:`elementwise`, its forward rule.
- :func:`transposes`: the runtime helpers that are linear in their first
  argument: a row gives the helper's parameters and its transpose applied to
  ``g``; the forward rule is the helper itself applied to the tangent.
- :func:`family`: one source text with ``$name`` placeholders
  (:class:`string.Template`), written out once per row of a table (the
  methods of the ``scipy.stats`` distributions, ``atleast_1d/2d/3d``...).
"""

import ast
import inspect
import linecache
import string
import textwrap

from srcad.rules.registry import adjoint, tangent


def define(namespace, source):
    """Run ``source`` (function definitions, decorated or not) in ``namespace``,
    a rule module's globals, with ``inspect.getsource`` able to read each
    function back; returns the functions, in the order the text defines them.

    >>> ns = {"__name__": "example"}
    >>> (double,) = define(ns, "def double(g, ans, x):\\n    return 2.0 * g\\n")
    >>> double(1.5, None, None), double.__module__
    (3.0, 'example')
    >>> print(inspect.getsource(double), end="")
    def double(g, ans, x):
        return 2.0 * g
    """
    names = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    filename = f"<{namespace['__name__']} rules: {', '.join(names)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return [namespace[name] for name in names]


# --- a forward rule from its reverse twin ----------------------------------------------

def elementwise(*primitives, rename=None, tangent_name=None):
    """Register the decorated reverse rule for ``primitives``, and the forward rule
    derived from it (:func:`derived_tangent`) as theirs.

    For a rule whose Jacobian is its own transpose, so that the reverse rule's
    formula applied to a tangent in place of ``g`` is the forward rule (an
    elementwise function's Jacobian is diagonal; a mask's too; an involution
    such as ``swapaxes`` is a symmetric permutation)::

        @elementwise(np.arctan2)
        def arctan2(g, ans, x1, x2):
            squared_radius = np.square(x1) + np.square(x2)
            return unbroadcast(g * x2 / squared_radius, x1), unbroadcast(-g * x1 / squared_radius, x2)

    registers ``arctan2_tangent(x1_dot, x2_dot, ans, x1, x2)`` returning
    ``x1_dot * x2 / squared_radius, -x2_dot * x1 / squared_radius``.
    """
    def register(rule):
        adjoint(*primitives)(rule)
        tangent(*primitives)(derived_tangent(rule, rename, tangent_name))
        return rule

    return register


def delegated(*primitives):
    """Register the decorated reverse rule ``<name>``, which hands ``g`` to the
    helper ``<name>_adjoint``, for ``primitives``, and as their forward rule the
    same call of ``<name>_tangent`` with the tangent in ``g``'s place
    (``eigh_adjoint(g, ans, UPLO)``, ``eigh_tangent(a_dot, ans, UPLO)``): the
    rule ``<name>_tangent_`` (``<name>_tangent`` is the helper's)."""
    def register(rule):
        name = rule.__name__
        return elementwise(*primitives, rename={f"{name}_adjoint": f"{name}_tangent"},
                           tangent_name=f"{name}_tangent_")(rule)

    return register


def derived_tangent(rule, rename=None, name=None):
    """The forward rule of the reverse rule ``rule``, defined next to it.

    Output ``i`` of ``rule`` belongs to primal parameter ``p``: ``None`` stays
    ``None``, ``zeros_like(q)`` becomes ``zeros_like(ans)``, and any other
    output, ``unbroadcast(E, p)`` or ``E``, becomes ``E`` with ``p_dot`` in
    place of ``g`` (broadcasting needs no unbroadcast in forward mode; ``E``
    must read ``g``, or it is not ``g``'s image under a linear map).  The
    statements before the ``return`` are kept and must not read ``g``.  Names
    in ``rename`` (helper -> its forward counterpart) are replaced everywhere.
    The rule is named ``name``, by default ``<rule>_tangent`` (less the
    trailing underscore of a rule named after its helper, ``check_scalar_``).
    """
    fdef = ast.parse(textwrap.dedent(inspect.getsource(rule))).body[0]
    body = fdef.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]                               # the docstring is the reverse rule's
    *prelude, ret = body
    outputs = list(ret.value.elts) if isinstance(ret.value, ast.Tuple) else [ret.value]
    params = list(inspect.signature(rule).parameters)[2:]
    tangents = [f"{p}_dot" for p in params[:len(outputs)]]
    renames = dict(rename or {})

    def fail(what):
        return TypeError(f"cannot derive the forward rule of {rule.__qualname__}: {what}")

    for stmt in prelude:
        if _reads(stmt, "g"):
            raise fail(f"line {stmt.lineno} reads g before the return")
    new_outputs = []
    for param, seed, out in zip(params, tangents, outputs):
        if isinstance(out, ast.Constant) and out.value is None:
            new_outputs.append(out)
            continue
        if _is_call(out, "zeros_like", 1):
            new_outputs.append(_call("zeros_like", [_name("ans")]))
            continue
        if _is_call(out, "unbroadcast", 2) and _is_name(out.args[1], param):
            out = out.args[0]
        if not _reads(out, "g"):
            raise fail(f"the output for {param} does not read g")
        new_outputs.append(_Rename({**renames, "g": seed}).visit(out))
    fdef.name = name or f"{rule.__name__.rstrip('_')}_tangent"
    fdef.decorator_list = []
    args = fdef.args
    args.args = [ast.arg(arg=t) for t in tangents] + [ast.arg(arg="ans")] + args.args[2:]
    value = ast.Tuple(elts=new_outputs, ctx=ast.Load()) if isinstance(ret.value, ast.Tuple) \
        else new_outputs[0]
    fdef.body = [_Rename(renames).visit(stmt) for stmt in prelude] + [ast.Return(value=value)]
    (derived,) = define(rule.__globals__, ast.unparse(ast.fix_missing_locations(fdef)) + "\n")
    return derived


class _Rename(ast.NodeTransformer):
    def __init__(self, names):
        self.names = names

    def visit_Name(self, node):
        if node.id in self.names and isinstance(node.ctx, ast.Load):
            return ast.copy_location(_name(self.names[node.id]), node)
        return node


def _reads(tree, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(tree))


def _is_name(node, name):
    return isinstance(node, ast.Name) and node.id == name


def _is_call(node, func, nargs):
    return (isinstance(node, ast.Call) and _is_name(node.func, func)
            and len(node.args) == nargs and not node.keywords)


def _name(ident):
    return ast.Name(id=ident, ctx=ast.Load())


def _call(func, args):
    return ast.Call(func=_name(func), args=args, keywords=[])


# --- tables -----------------------------------------------------------------------------

def unary(namespace, rows):
    """For each row ``(name, primitives, reverse)`` or ``(name, primitives,
    reverse, docstring)``: the reverse rule ``name(g, ans, x)`` returning the
    expression ``reverse`` (``g`` times the derivative, in terms of ``x`` and
    ``ans``; or ``zeros_like(x)`` where the derivative is 0), registered for ``primitives`` (one or a tuple) with its forward
    rule ``name_tangent`` (:func:`elementwise`).  A ``name`` written as
    ``"erfinv(y)"`` or ``"copy(a, order='K')"`` gives the parameters other
    than ``x``: the first is differentiated, the others are static."""
    for name, primitives, reverse, *doc in rows:
        name, _, parameters = name.partition("(")
        docstring = f'    """{doc[0]}"""\n' if doc else ""
        (rule,) = define(namespace, f"def {name}(g, ans, {parameters[:-1] or 'x'}):\n{docstring}"
                                    f"    return {reverse}\n")
        elementwise(*(primitives if isinstance(primitives, tuple) else (primitives,)))(rule)


def transposes(namespace, rows):
    """Rules of runtime helpers that are linear in their first argument and read
    the others for their shape, or as constants.

    A row is ``(helper, parameters, reverse)``, or with a docstring for the
    reverse rule after them: ``parameters`` as in a ``def``
    (``"cotangent, x, index"``), ``reverse`` the reverse rule's outputs,
    the first the helper's transpose applied to ``g``, then ``zeros_like(p)``
    for a parameter read for its shape or ``None`` for one that is not
    differentiable (an index, a name).  The forward rule applies the helper
    itself to the tangent of the first parameter, every other parameter
    passed on in its place, and has ``zeros_like(ans)`` and ``None`` where the
    reverse rule has ``zeros_like`` and ``None``.  The rules are named
    ``<helper>_`` and ``<helper>_tangent``; ``helper`` is the object the rules
    are registered for (its ``__name__`` names them, lower-cased)."""
    for helper, parameters, reverse, *doc in rows:
        name = helper.__name__.lower()
        docstring = f'    """{doc[0]}"""\n' if doc else ""
        params = [p.split("=")[0].strip().lstrip("*") for p in parameters.split(",")]
        others = [o.strip() for o in _split_outputs(reverse)[1:]]
        forward = [f"{helper.__name__}({', '.join([params[0] + '_dot'] + params[1:])})"]
        forward += ["None" if o == "None" else "zeros_like(ans)" for o in others]
        tangents = ", ".join(f"{p}_dot" for p in params[:len(forward)])
        reverse_rule, forward_rule = define(namespace, (
            f"def {name}_(g, ans, {parameters}):\n{docstring}    return {reverse}\n\n\n"
            f"def {name}_tangent({tangents}, ans, {parameters}):\n    return {', '.join(forward)}\n"))
        adjoint(helper)(reverse_rule)
        tangent(helper)(forward_rule)


def _split_outputs(text):
    """The top-level comma-separated parts of ``text``."""
    value = ast.parse(text, mode="eval").body
    parts = value.elts if isinstance(value, ast.Tuple) else [value]
    return [ast.get_source_segment(text, part) for part in parts]


def family(namespace, source, rows):
    """Write ``source``, a :class:`string.Template` of rule definitions, once for
    each row (a dict of the placeholders' values) into ``namespace``."""
    for row in rows:
        define(namespace, string.Template(textwrap.dedent(source)).substitute(row))
