"""``has_aux=True``: ``f`` returns ``(value, aux)``; differentiate ``value``.

As in JAX, the auxiliary result is computed by the forward sweep, takes no
part in differentiation, and is returned next to the derivative::

    def loss(w, x):
        pred = x @ w
        return np.sum(pred ** 2), pred          # (value, aux)

    g, pred = srcad.grad(loss, has_aux=True)(w, x)

The split happens on the graph, before its analysis: the graph's output
becomes ``value`` alone (so nothing only ``aux`` needs is active) and
``graph.aux`` keeps the ``aux`` atom for the generator to return.
Without ``has_aux``, a function whose return is a tuple literal is refused
by ``grad`` and ``value_and_grad`` with a hint to pass it.
"""

import gast

from srcad.ir import Kind
from srcad.errors import NonScalarOutputError, SrcadError


def split_aux(graph):
    """Make ``graph.output`` the value and ``graph.aux`` the auxiliary atom."""
    parts = _returned_pair(graph)
    if parts is None:
        raise graph.parsed.source.error(
            SrcadError, f"has_aux=True needs {graph.name!r} to return a pair (value, aux)",
            _return_statement(graph),
            hint="end the function with `return value, aux`")
    graph.output, graph.aux = parts


def refuse_tuple_output(graph):
    """``grad`` of a function returning a tuple literal: say how to mean it."""
    output = graph.output
    if isinstance(output, gast.Name):
        definitions = [n for n in graph.nodes if n.target == output.id]
        if definitions and all(n.kind == Kind.PACK and isinstance(n.stmt.value, gast.Tuple)
                               for n in definitions):
            output = definitions[-1].stmt.value
    if isinstance(output, gast.Tuple):
        raise graph.parsed.source.error(
            NonScalarOutputError,
            f"grad needs a function with a scalar output, but {graph.name!r} returns a tuple "
            f"of {len(output.elts)} values", _return_statement(graph),
            hint="if the first is the value to differentiate and the rest is auxiliary, pass "
                 "has_aux=True (srcad.grad(f, has_aux=True) returns (gradient, aux)); for "
                 "several outputs use srcad.vjp or srcad.jacobian")


def _returned_pair(graph):
    """The two atoms of ``return value, aux``, or of a pair bound once and returned."""
    output = graph.output
    if isinstance(output, gast.Tuple):
        return tuple(output.elts) if len(output.elts) == 2 else None
    if not isinstance(output, gast.Name):
        return None
    definitions = [n for n in graph.nodes if n.target == output.id]
    if len(definitions) != 1 or definitions[0].kind != Kind.PACK or definitions[0] not in graph.body:
        return None
    pack = definitions[0]
    if pack.keys is not None or len(pack.args) != 2 or not isinstance(pack.stmt.value, gast.Tuple):
        return None
    later = {n.target for n in graph.nodes[graph.nodes.index(pack) + 1:]}
    if any(isinstance(a, gast.Name) and a.id in later for a in pack.args):
        return None                           # an element rebound later: not the value returned
    return tuple(pack.args)


def _return_statement(graph):
    """The function's (single) return statement, for locating errors."""
    returns = [s for s in graph.fdef.body if isinstance(s, gast.Return)]
    return returns[-1] if returns else graph.fdef
