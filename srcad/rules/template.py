"""Derivative rules as templates: parse a rule once, inline it at each call site.

A rule such as::

    @adjoint(operator.mul, np.multiply)
    def multiply(g, ans, x, y):
        return unbroadcast(g * y, x), unbroadcast(g * x, y)

becomes a :class:`Template` with primal parameters ``(x, y)`` and one output
expression per differentiable parameter.  :meth:`Template.instantiate`
substitutes the names of one call site (``g -> dg``, ``ans -> g``,
``x -> p``, ``y -> z``) and returns only the outputs that are needed, so the
generated code holds ``dp = unbroadcast(dg * z, p)`` and nothing for an
inactive argument.

A forward rule ``def multiply_tangent(x_dot, y_dot, ans, x, y)`` parses the
same way: its leading parameters are everything up to ``ans`` (one tangent per
differentiable parameter), and output ``i`` is the contribution of the tangent
of primal parameter ``i``.  An output ``zeros_like(p)`` is a symbolic zero
(:meth:`Template.is_zero`): the derivative exists and is zero, so the
generators emit nothing for it.
"""

import builtins
import inspect
import textwrap

import gast

from srcad.errors import RuleError
from srcad.runtime import zeros_like
from srcad.trees import clone, copy_node

_TEMPLATES = {}


class Template:
    """A parsed reverse (or forward) rule."""

    def __init__(self, rule, leading=None):
        self.rule = rule
        self.name = rule.__qualname__
        self.signature = inspect.signature(rule)
        params = list(self.signature.parameters.values())
        if leading is None:               # (g, ans) or (x_dot, ..., ans)
            names = [p.name for p in params]
            leading = names[:names.index("ans") + 1] if "ans" in names else ("g", "ans")
        self.leading = [p.name for p in params[:len(leading)]]
        self.primal = [p for p in params[len(leading):]]
        self.globals = rule.__globals__
        fdef = _parse_rule(rule)
        *prelude, ret = fdef.body
        if not isinstance(ret, gast.Return) or ret.value is None:
            raise self._malformed("must end with a return statement")
        for stmt in prelude:
            if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], gast.Name)):
                raise self._malformed("may only assign names before its return "
                                      "(move branching into a helper function)")
        self.prelude = prelude
        self.locals = {s.targets[0].id for s in prelude}
        value = ret.value
        self.outputs = list(value.elts) if isinstance(value, gast.Tuple) else [value]
        self.zeros = self._zero_outputs()      # indices of zeros_like(p) outputs
        if len(self.outputs) > len(self.primal):
            raise self._malformed(f"returns {len(self.outputs)} gradients for "
                                  f"{len(self.primal)} parameters")

    def _malformed(self, what):
        return RuleError(f"derivative rule {self.name} {what}",
                         hint="a rule is `def rule(g, ans, *params)` whose body is "
                              "assignments followed by `return grad` or a tuple of grads")

    # -- which parameters carry a derivative --------------------------------
    def differentiable(self, param):
        """True when the rule gives a gradient for primal parameter ``param``."""
        index = self.index(param)
        if index is None or index >= len(self.outputs):
            return False
        out = self.outputs[index]
        return not (isinstance(out, gast.Constant) and out.value is None)

    def is_zero(self, param):
        """True when the rule's output for ``param`` is ``zeros_like(<a parameter>)``:
        the result depends on the parameter's shape only."""
        return self.index(param) in self.zeros

    def _zero_outputs(self):
        names = set(self.leading) | {p.name for p in self.primal}
        return {i for i, out in enumerate(self.outputs)
                if isinstance(out, gast.Call) and isinstance(out.func, gast.Name)
                and len(out.args) == 1 and not out.keywords and isinstance(out.args[0], gast.Name)
                and out.args[0].id in names and self.globals.get(out.func.id) is zeros_like}

    def index(self, param):
        for i, p in enumerate(self.primal):
            if p.name == param:
                return i
        return None

    def bind(self, args, kwargs):
        """Map primal parameter names to call-site expressions.

        Raises TypeError (from inspect) when the call does not fit the rule's
        signature.  A ``*varargs`` parameter is bound to a tuple expression.
        """
        fake = self.signature.replace(parameters=self.primal)
        bound = fake.bind(*args, **kwargs)
        mapping = {}
        for p in self.primal:
            if p.name in bound.arguments:
                value = bound.arguments[p.name]
                if p.kind == p.VAR_POSITIONAL:
                    value = gast.Tuple(elts=list(value), ctx=gast.Load())
                elif p.kind == p.VAR_KEYWORD:
                    raise TypeError(f"rule {self.name} cannot take **{p.name}")
                mapping[p.name] = value
            elif p.kind == p.VAR_POSITIONAL:
                mapping[p.name] = gast.Tuple(elts=[], ctx=gast.Load())
            else:
                mapping[p.name] = Default(p.default)
        return mapping

    # -- inlining ------------------------------------------------------------
    def instantiate(self, leading, mapping, wanted, fresh, reference):
        """Inline the rule at one call site.

        ``leading``: expressions for (g, ans) (or the forward rule's leading
        names); ``mapping``: from :meth:`bind`; ``wanted``: indices of the
        outputs to produce; ``fresh(base)``: a new local name;
        ``reference(name, obj)``: the name under which the generated code
        can see the rule module's global ``name`` (bound to ``obj``).
        Returns ``(prelude_statements, {index: expression})``.
        """
        subst = dict(zip(self.leading, leading))
        for name, value in mapping.items():
            subst[name] = value.expr(reference) if isinstance(value, Default) else value
        renamed = {}
        for local in sorted(self.locals):
            renamed[local] = fresh(local)
        prelude = []
        for stmt in self.prelude:
            new = self._substitute(stmt, subst, renamed, reference)
            prelude.append(new)
        outs = {}
        for i in wanted:
            outs[i] = self._substitute(self.outputs[i], subst, renamed, reference)
        return prelude, outs

    def _substitute(self, tree, subst, renamed, reference):
        """A copy of the rule's ``tree`` for one call site (:class:`_Substitution`)."""
        return _Substitution(self, subst, renamed, reference).copy(tree)

    def _global(self, name):
        if name in self.globals:
            return self.globals[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise RuleError(f"derivative rule {self.name} uses the name {name!r}, "
                        "which is neither a parameter nor defined in its module")


class _Substitution:
    """A copy of a rule's tree for one call site, made in one walk: the rule's
    locals ``renamed``, its parameters replaced by (copies of) the call site's
    expressions ``subst``, and the other names it reads turned into
    references to the rule module's globals (``reference``), in the order they appear
    (which decides the names references get).

    An object rather than a closure that calls itself: such a closure is a
    reference cycle, one per inlined term, that only the cyclic garbage
    collector frees (tens of thousands of cells on a long function).
    """

    def __init__(self, template, subst, renamed, reference):
        self.template, self.subst, self.renamed, self.reference = template, subst, renamed, reference

    def copy(self, node):
        if type(node) is gast.Name:
            ident = node.id
            if ident in self.renamed:
                return copy_node(node, clone, id=self.renamed[ident])
            if type(node.ctx) is gast.Load:
                if ident in self.subst:
                    return clone(self.subst[ident])
                return copy_node(node, clone, id=self.reference(ident, self.template._global(ident)))
            return clone(node)
        if type(node) is list:
            return [self.copy(item) for item in node]
        if not isinstance(node, gast.AST):
            return node
        return copy_node(node, self.copy)


class Default:
    """A rule parameter's default value, turned into an expression on demand."""

    def __init__(self, value):
        self.value = value

    def expr(self, reference):
        if _is_literal(self.value):
            return gast.Constant(value=self.value, kind=None)
        return gast.Name(id=reference("default", self.value), ctx=gast.Load(),
                         annotation=None, type_comment=None)


def _is_literal(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, tuple) and all(_is_literal(v) for v in value)


def _parse_rule(rule):
    try:
        source = textwrap.dedent(inspect.getsource(rule))
    except (OSError, TypeError) as exc:
        raise RuleError(f"cannot read the source of derivative rule {rule.__qualname__}",
                        hint="define rules in a file with def") from exc
    tree = gast.parse(source)
    fdef = tree.body[0]
    if not isinstance(fdef, gast.FunctionDef):
        raise RuleError(f"derivative rule {rule.__qualname__} must be defined with def")
    body = fdef.body
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        fdef.body = body[1:]                  # docstring
    return fdef


def template(rule):
    """The cached :class:`Template` of ``rule``."""
    found = _TEMPLATES.get(rule)
    if found is None:
        found = _TEMPLATES[rule] = Template(rule)
    return found
