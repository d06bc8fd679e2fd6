"""Drawing a computational graph: the text form and Graphviz DOT.

Both forms are meant to be read like the code: arguments in the order
written, constants and keywords in place, loops and branches as labelled
blocks, and a call of one of the user's own functions *expanded*: the
callee's graph is drawn inside a labelled cluster (indented under the call in
the text form), its parameters fed by the caller's arguments and its result
flowing into the caller's target.  Expansion stops at a recursive call and at
``expand`` levels; a callee srcad cannot read stays one box.

Nothing here changes the graph: a callee is parsed and analyzed on its own
(w.r.t. the parameters that receive values depending on ``wrt``), exactly as
the reverse sweep would see it.
"""

import re

import gast

from srcad.ir import Kind, Visitor
from srcad.errors import SrcadError

#: how deep ``expand=True`` goes (a guard; recursion already stops at the first repeat)
MAX_DEPTH = 8


def depth_of(expand):
    """``expand`` (True, False or a depth) as a number of levels."""
    if expand is True:
        return MAX_DEPTH
    if expand is False or expand is None:
        return 0
    return max(0, int(expand))


# -- callees ------------------------------------------------------------------------

def callee_of(graph, node, stack):
    """``(callee graph, {parameter: caller atom})`` for a call of a user function
    that is to be expanded, else None.  ``stack``: the functions being drawn."""
    from srcad.graph import _is_user_function
    prim = node.primitive
    if node.kind not in (Kind.CALL, Kind.USERCALL) or prim is None or not _is_user_function(prim):
        return None
    callee = getattr(prim, "__func__", prim)
    if callee in stack or len(stack) > depth_of(getattr(graph, "expand", 0)):
        return None
    cache = graph.__dict__.setdefault("_callee_pictures", {})
    if id(node) not in cache:
        cache[id(node)] = _build_callee(graph, node, callee)
    return cache[id(node)]


def _build_callee(graph, node, callee):
    from srcad import pipeline
    from srcad.graph import _bind_call, _bound_self, _carries_derivative
    try:
        if not hasattr(node, "bound_self"):
            node.bound_self = _bound_self(graph, node)
        arguments = getattr(node, "arguments", None) or _bind_call(graph.parsed.source, callee, node)
        wrt = [p for p, atom in arguments.items() if _carries_derivative(graph, atom)]
        _, inner = pipeline.graph_of(callee, wrt, len(wrt) > 1, callee=True)
    except SrcadError:                 # a callee srcad cannot read stays one box
        return None
    inner.expand = graph.expand
    return inner, arguments


def _argument_atoms(atom):
    """The atoms an argument is made of (a ``*args`` tuple, a ``**kwargs`` dict)."""
    if isinstance(atom, dict):
        return list(atom.values())
    if isinstance(atom, gast.Tuple):
        return list(atom.elts)
    return [atom]


def _argument_text(atom):
    from srcad.graph import _atom_text
    if isinstance(atom, dict):
        return "{" + ", ".join(f"{k}={_atom_text(v)}" for k, v in atom.items()) + "}"
    return _atom_text(atom)


# -- text -----------------------------------------------------------------------------

def text(graph):
    """The printable form: one line per primitive, blocks indented."""
    picture = _Text([f"graph {graph.name}({', '.join(graph.params)}) wrt {', '.join(graph.wrt)}"])
    picture.items(graph, getattr(graph, "body", graph.nodes), "", [graph.parsed.func])
    picture.out.append(f"   return {_gast_text(graph.output)}")
    picture.out.append("(* = active: depends on wrt and reaches the output)")
    return "\n".join(picture.out)


class _Text(Visitor):
    """The text form's lines, one stage method per kind of item."""

    def __init__(self, out):
        self.out = out

    def items(self, graph, items, indent, stack):
        for item in items:
            self.visit("text", item, graph, indent, stack)

    def text_node(self, node, graph, indent, stack):
        from srcad.graph import _call_args
        if node.kind == Kind.EFFECT:
            return
        mark = "*" if node.active else " "
        self.out.append(f" {mark} {indent}{node.target} = {node.label}({', '.join(_call_args(node))})"
                        f"    # line {node.lineno}: {graph.source_text(node)}")
        expanded = callee_of(graph, node, stack)
        if expanded is not None:
            self.callee(expanded, indent + "    ", stack)

    def text_branch(self, branch, graph, indent, stack):
        self.out.append(f"   {indent}if {_gast_text(branch.test)}:")
        self.items(graph, branch.body, indent + "    ", stack)
        if branch.orelse:
            self.out.append(f"   {indent}else:")
            self.items(graph, branch.orelse, indent + "    ", stack)

    def text_loop(self, loop, graph, indent, stack):
        from srcad.graph import _loop_header
        self.out.append(f"   {indent}{_loop_header(loop)}:")
        self.items(graph, loop.body, indent + "    ", stack)

    def text_jump(self, jump, graph, indent, stack):
        self.out.append(f"   {indent}{type(jump.stmt).__name__.lower()}")

    def callee(self, expanded, indent, stack):
        inner, arguments = expanded
        bound = ", ".join(f"{p}={_argument_text(a)}" for p, a in arguments.items())
        func = inner.parsed.func
        self.out.append(f"   {indent}in {func.__qualname__}({bound}):")
        self.items(inner, getattr(inner, "body", inner.nodes), indent + "    ", stack + [func])
        self.out.append(f"   {indent}    return {_gast_text(inner.output)}")


def _gast_text(expr):
    from srcad.graph import gast_text
    return gast_text(expr)


# -- DOT ------------------------------------------------------------------------------

class _Dot(Visitor):
    """One DOT drawing: its lines and a counter for the ids of boxes and
    clusters; one stage method per kind of item."""

    def __init__(self):
        self.lines = []
        self.edges = []         # drawn last, outside every cluster: an edge inside a
        self.count = 0          # cluster would pull the values it names into it

    def fresh(self, base):
        self.count += 1
        return f"{base}{self.count}"

    def dot_node(self, node, graph, pad, ns, stack):
        if node.target is None or node.kind == Kind.EFFECT:
            return
        expanded = callee_of(graph, node, stack)
        if expanded is None:
            _dot_node(graph, node, self, pad, ns)
        else:
            _dot_callee(graph, node, expanded, self, pad, ns, stack)

    def dot_branch(self, branch, graph, pad, ns, stack):
        test = graph.line_text(branch.lineno).rstrip(":") or f"if {_gast_text(branch.test)}"
        for label, part in ((test, branch.body), ("else", branch.orelse)):
            if part:
                _dot_cluster(graph, label, part, self, pad, ns, stack, "dashed")

    def dot_loop(self, loop, graph, pad, ns, stack):
        from srcad.graph import _loop_header
        header = graph.line_text(loop.lineno).rstrip(":") or _loop_header(loop)
        counter = [loop.target] if loop.kind == "for" else []   # the loop's counter lives in it
        _dot_cluster(graph, header, loop.body, self, pad, ns, stack, "rounded", counter)

    def dot_jump(self, jump, graph, pad, ns, stack):
        pass                     # a break or continue draws nothing


def dot(graph):
    """The graph in Graphviz DOT (see :meth:`srcad.graph.Graph.to_dot`)."""
    d = _Dot()
    d.lines += [f'digraph "{escape(graph.name)}" {{', "  rankdir=TB;",
                '  graph [fontname="Helvetica"]; node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];']
    for p in graph.params:
        style = ", style=filled, fillcolor=lightblue, penwidth=2" if p in graph.wrt else ""
        d.lines.append(f'  "{escape(p)}" [shape=ellipse, label="{escape(p)}"{style}];')
    _dot_items(graph, getattr(graph, "body", graph.nodes), d, "  ", "", [graph.parsed.func])
    output = getattr(graph.output, "id", None)
    if output is not None:
        d.lines.append(f'  "{escape(output)}" [style=filled, fillcolor=salmon, penwidth=2];')
        d.lines.append('  "return" [shape=plaintext];')
        d.lines.append(f'  "{escape(output)}" -> "return";')
    d.lines += ["  " + edge for edge in d.edges]
    d.lines.append("}")
    return "\n".join(d.lines)


def _dot_items(graph, items, d, pad, ns, stack):
    """Draw ``items``; ``ns`` prefixes the value ids of a callee's drawing."""
    for item in items:
        d.visit("dot", item, graph, pad, ns, stack)


def _dot_cluster(graph, label, items, d, pad, ns, stack, style, values=()):
    d.lines.append(f'{pad}subgraph {d.fresh("cluster_")} {{')
    d.lines.append(f'{pad}  label="{escape(label)}"; style={style}; labeljust=l;')
    for name in values:
        d.lines.append(f'{pad}  {_value(ns, name)} [shape=ellipse, label="{escape(name)}"];')
    _dot_items(graph, items, d, pad + "  ", ns, stack)
    d.lines.append(f"{pad}}}")


def _value(ns, name):
    return f'"{escape(ns + name)}"'


def _edges_in(node):
    """``(label shown in the box, [(local name, edge label)])`` of a node's arguments."""
    from srcad.graph import _atom_locals, _atom_text, _labelled_args
    shown, edges = [], []
    for position, (key, atom) in enumerate(_labelled_args(node)):
        names = _atom_locals(atom)
        tag = str(position) if key is None else key
        if isinstance(atom, gast.Name) and names:
            shown.append("·" if key is None else f"{key}=·")
            edges.append((names[0], tag))
        else:
            shown.append(_atom_text(atom) if key is None else f"{key}={_atom_text(atom)}")
            edges.extend((name, tag) for name in names)
    return shown, edges


def _dot_node(graph, node, d, pad, ns):
    shown, edges = _edges_in(node)
    op = d.fresh("op")
    color = ", style=filled, fillcolor=lightyellow" if node.active else ""
    label = f"{node.label}({', '.join(shown)})\\nline {node.lineno}"
    d.lines.append(f'{pad}{op} [shape=box, label="{escape(label, keep_newlines=True)}"{color}];')
    for name, tag in edges:
        d.edges.append(f'{_value(ns, name)} -> {op} [label="{escape(tag)}"];')
    d.lines.append(f'{pad}{_value(ns, node.target)} [shape=ellipse, label="{escape(node.target)}"];')
    d.edges.append(f'{op} -> {_value(ns, node.target)};')


def _dot_callee(graph, node, expanded, d, pad, ns, stack):
    """A call of a user function: the callee's graph in a cluster labelled with
    the call; each parameter is fed by the caller's argument (edge labelled
    with its position or keyword), the callee's result becomes the target."""
    from srcad.graph import _atom_locals
    inner, arguments = expanded
    func = inner.parsed.func
    inner_ns = f"{ns}{d.fresh('call')}:"
    d.lines.append(f'{pad}subgraph {d.fresh("cluster_")} {{')
    title = f"{func.__qualname__}({', '.join(inner.params)})\\lcalled at line {node.lineno}: {graph.source_text(node)}\\l"
    d.lines.append(f'{pad}  label="{escape(title, keep_newlines=True)}"; style="rounded,bold"; '
                   f'color=gray40; labeljust=l;')
    for p in inner.params:
        style = ", style=filled, fillcolor=lightblue" if p in inner.wrt else ""
        d.lines.append(f'{pad}  {_value(inner_ns, p)} [shape=ellipse, '
                       f'label="{escape(_parameter_label(p, arguments))}"{style}];')
    _dot_items(inner, getattr(inner, "body", inner.nodes), d, pad + "  ", inner_ns, stack + [func])
    d.lines.append(f"{pad}}}")
    for param, atom in arguments.items():      # each parameter fed by its argument
        for a in _argument_atoms(atom):
            for name in _atom_locals(a):
                d.edges.append(f'{_value(ns, name)} -> {_value(inner_ns, param)} '
                               f'[label="{escape(param)}", style=dashed];')
    d.lines.append(f'{pad}{_value(ns, node.target)} [shape=ellipse, label="{escape(node.target)}"];')
    out = getattr(inner.output, "id", None)
    if out is not None:
        d.edges.append(f'{_value(inner_ns, out)} -> {_value(ns, node.target)} '
                       f'[label="return", style=dashed];')


def _parameter_label(param, arguments):
    """A callee's parameter as drawn: its name, with the constant it receives
    (``b = 2.0``) or ``(default)`` when the call leaves it out; a parameter fed
    by the caller's values gets their edges instead."""
    from srcad.graph import _atom_locals
    if param not in arguments:
        return f"{param} (default)"
    if any(_atom_locals(a) for a in _argument_atoms(arguments[param])):
        return param
    return f"{param} = {_argument_text(arguments[param])}"


def escape(text, keep_newlines=False):
    """``text`` inside a DOT string; with ``keep_newlines``, ``\\n`` and ``\\l``
    stay Graphviz's line breaks (centred, left-aligned)."""
    text = str(text)
    if keep_newlines:
        parts = re.split(r"(\\[nl])", text)
        return "".join(part if i % 2 else escape(part) for i, part in enumerate(parts))
    return text.replace("\\", "\\\\").replace('"', '\\"')
