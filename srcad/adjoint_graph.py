"""The adjoint graph: the reverse sweep drawn as a data-flow graph.

``srcad.graph(f, sweep="reverse")`` generates the reverse sweep exactly as
``srcad.grad`` does (``vjp``'s when ``f`` returns a tuple) and draws *its*
statements: one node per adjoint statement, labelled with the user's line it
reverses, and one edge per adjoint that flows from the statement defining it
to a statement reading it.  A value used twice in the forward sweep (``x * x``)
gets two contributions in the reverse sweep; the second reads the first and
adds to it (``dx = dx + dout * x``): that *accumulation* is marked, so the
fan-out of backpropagation is visible.  Reversed loops and branches are
labelled clusters; an adjoint carried from one reversed iteration to the next
is a dashed edge back into the loop.

Statements that only restore forward values (``s = s_stack.pop()``) are not
drawn: the forward values a statement reads appear in its text.  A call of a
callee's reverse function (``du, dx = reverse_h(h_saved, dh)``) is followed by
a cluster holding that reverse sweep (generated again, as srcad generated it):
the adjoint the call passes feeds its seed, and the gradients it returns flow
back into the call (with ``expand``, like the forward picture's callees).
"""

import textwrap

import gast

from srcad import codegen
from srcad.errors import SrcadError
from srcad.graph import gast_text
from srcad.normalize import assigned_names
from srcad.picture import depth_of, escape
from srcad.trees import name_nodes

_WIDTH = 64            # statements longer than this wrap in the picture


class Step:
    """One adjoint statement: ``text``, the user line it reverses, what it reads."""

    def __init__(self, index, stmt, origin, targets, reads):
        self.index = index              # order in the reverse sweep (the DOT id)
        self.stmt = stmt
        self.text = _code(stmt)
        self.lineno = origin.lineno if origin is not None else None
        self.line = _code_only(origin.text) if origin is not None else ""
        self.targets = targets          # adjoint names it defines
        self.reads = reads              # adjoint names it reads, in order
        self.accumulates = [t for t in targets if t in reads]
        self.sources = {}               # name read -> steps whose value can reach here
        self.seed_id = None             # the DOT id of the seed of this step's sweep
        self.callee = None              # a call of a callee's reverse function, expanded: its Sweep

    @property
    def id(self):
        return f"s{self.index}"


class Block:
    """A reversed loop or branch side: its header as generated and the user
    line it reverses, and its steps and blocks."""

    def __init__(self, header, origin, items, style, loop, branch=None):
        self.header = header
        self.branch = branch            # the two sides of one branch share it
        self.lineno = origin.lineno if origin is not None else None
        self.line = _code_only(origin.text) if origin is not None else ""
        self.items = items
        self.style = style
        self.loop = loop


class Sweep:
    """One reverse sweep: of the function drawn, or of a callee (expanded at
    the call of its reverse function).  ``final``: the steps whose value each
    returned gradient may hold (None: the seed)."""

    def __init__(self, seed, seed_id, items, results, final, func=None, lineno=None, line=""):
        self.seed, self.seed_id = seed, seed_id
        self.items, self.results, self.final = items, results, final
        self.func, self.lineno, self.line = func, lineno, line
        self.passed = None              # the caller's adjoint the seed receives (its text)


class AdjointGraph:
    """The reverse sweep of ``f`` w.r.t. ``wrt``: printable, ``.to_dot()``,
    an SVG picture in a notebook (with Graphviz)."""

    def __init__(self, graph, sweep, source):
        self.name = graph.name
        self.params = graph.params
        self.wrt = graph.wrt
        self.sweep = sweep
        self.seed = sweep.seed          # the cotangent's name: dout, dg
        self.items = sweep.items
        self.results = sweep.results    # (wrt parameter, its gradient's adjoint name or None)
        self.source = source            # the generated function the sweep comes from
        self.output = gast_text(graph.output) if graph.output is not None else "None"

    def steps(self, callees=False):
        """Every step, in the order of the reverse sweep (with ``callees``, the
        steps of the expanded callees' reverse sweeps too)."""
        return list(_steps(self.items, callees))

    # -- text ---------------------------------------------------------------------
    def __str__(self):
        out = [f"adjoint graph of {self.name}({', '.join(self.params)}) wrt {', '.join(self.wrt)}: "
               f"the reverse sweep, seeded with {self.seed} (the gradient of {self.output})"]
        self._text(self.items, out, "")
        gradients = ", ".join(name or f"zeros (nothing reaches {p})" for p, name in self.results)
        out.append(f"   return {gradients}")
        out.append("(+ = accumulates: adds another contribution to an adjoint, "
                   "where the forward value fans out)")
        return "\n".join(out)

    def _text(self, items, out, indent):
        for item in items:
            if isinstance(item, Step):
                mark = "+" if item.accumulates else " "
                where = f"line {item.lineno}: {item.line}" if item.lineno else "starts at zero"
                notes = ([where] if item.lineno or _is_zeros(item.stmt) else []) + \
                    ([f"reads {', '.join(item.reads)}"] if item.reads else [])
                note = f"    # {'; '.join(notes)}" if notes else ""
                out.append(f" {mark} {indent}{item.text}{note}")
                if item.callee is not None:
                    self._text_callee(item.callee, out, indent + "    ")
            else:
                where = f"    # line {item.lineno}: {item.line}" if item.lineno else ""
                out.append(f"   {indent}{item.header}:{where}")
                self._text(item.items, out, indent + "    ")

    def _text_callee(self, sweep, out, indent):
        passed = f" = {sweep.passed}" if sweep.passed and sweep.passed != sweep.seed else ""
        out.append(f"   {indent}in the reverse sweep of {sweep.func.__qualname__}, "
                   f"seeded with {sweep.seed}{passed}:")
        self._text(sweep.items, out, indent + "    ")
        returned = ", ".join(name or "zeros" for _, name in sweep.results)
        out.append(f"   {indent}    return {returned}")

    # -- DOT ----------------------------------------------------------------------
    def to_dot(self):
        """Nodes are the adjoint statements (accumulations green, with the
        adjoint they add to), each labelled with the user line it reverses;
        edges carry an adjoint's name from its definition to its readers."""
        lines = [f'digraph "reverse {escape(self.name)}" {{', "  rankdir=TB;",
                 '  graph [fontname="Helvetica"]; node [fontname="Helvetica"]; '
                 'edge [fontname="Helvetica", fontsize=10];',
                 f'  "{escape(self.seed)}" [shape=ellipse, style=filled, fillcolor=salmon, penwidth=2, '
                 f'label="{escape(self.seed)}\\nthe seed"];']
        counter = [0]
        self._dot(self.items, lines, "  ", counter)
        for step in self.steps(callees=True):
            for name in step.reads:
                target = step.id if step.callee is None else step.callee.seed_id
                for source in _ordered(step.sources.get(name, ())):
                    origin = step.seed_id if source is None else source.id
                    if source is not None and source.index >= step.index:   # from one reversed
                        lines.append(f'  {origin} -> {target} [label="{escape(name)}\\n(next iteration)", '
                                     f'style=dashed, constraint=false];')   # iteration to the next
                    else:
                        lines.append(f'  {origin} -> {target} [label="{escape(name)}"];')
            if step.callee is not None:   # the callee's gradients come back to the call
                for param, name in step.callee.results:
                    for source in _ordered(step.callee.final.get(name, ()) if name else ()):
                        origin = step.callee.seed_id if source is None else source.id
                        lines.append(f'  {origin} -> {step.id} [label="{escape(name)}", style=dashed];')
        for param, name in self.results:
            node = f'"gradient {escape(param)}"'
            label = f"gradient of {param}" + ("" if name else "\\n(zeros: nothing reaches it)")
            lines.append(f'  {node} [shape=ellipse, style=filled, fillcolor=lightblue, penwidth=2, '
                         f'label="{escape(label, keep_newlines=True)}"];')
            for source in _ordered(self.sweep.final.get(name, ()) if name else ()):
                origin = self.sweep.seed_id if source is None else source.id
                lines.append(f'  {origin} -> {node} [label="{escape(name)}"];')
        lines.append("}")
        return "\n".join(lines)

    def _dot(self, items, lines, pad, counter):
        for item in items:
            if isinstance(item, Step):
                text = "\\l".join(escape(part) for part in _wrap(item.text)) + "\\l"
                where = (f"reverses line {item.lineno}: {_shorten(item.line)}" if item.lineno
                         else "starts at zero" if _is_zeros(item.stmt) else "")
                label = f"{text}{escape(where)}\\l" if where else text
                style = (', style=filled, fillcolor=palegreen, penwidth=2'
                         if item.accumulates else ', style=filled, fillcolor=lightyellow')
                lines.append(f'{pad}{item.id} [shape=box, label="{label}"{style}];')
                if item.callee is not None:
                    self._dot_callee(item.callee, lines, pad, counter)
            else:
                counter[0] += 1
                where = f"\\lreverses line {item.lineno}: {escape(_shorten(item.line))}\\l" if item.lineno else ""
                lines.append(f"{pad}subgraph cluster_{counter[0]} {{")
                lines.append(f'{pad}  label="{escape(item.header)}{where}"; style={item.style}; labeljust=l;')
                self._dot(item.items, lines, pad + "  ", counter)
                lines.append(f"{pad}}}")

    def _dot_callee(self, sweep, lines, pad, counter):
        """A callee's reverse sweep in a bold cluster: its seed fed by the
        adjoints the call passes, its gradients (dashed) back to the call."""
        counter[0] += 1
        title = (f"reverse sweep of {sweep.func.__qualname__}\\lcalled at line {sweep.lineno}: "
                 f"{escape(_shorten(sweep.line))}\\l")
        lines.append(f"{pad}subgraph cluster_{counter[0]} {{")
        lines.append(f'{pad}  label="{escape(title, keep_newlines=True)}"; style="rounded,bold"; '
                     f'color=gray40; labeljust=l;')
        lines.append(f'{pad}  {sweep.seed_id} [shape=ellipse, style=filled, fillcolor=mistyrose, '
                     f'label="{escape(sweep.seed)}"];')
        self._dot(sweep.items, lines, pad + "  ", counter)
        lines.append(f"{pad}}}")

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))

    def _repr_svg_(self):
        """The picture in a notebook when Graphviz is installed (else the text)."""
        from srcad.display import dot_to_svg
        return dot_to_svg(self.to_dot())


def _ordered(steps):
    return sorted(steps, key=lambda s: -1 if s is None else s.index)


def _code_only(line):
    """A user line without its trailing comment (a picture's label quotes the code)."""
    import io
    import tokenize
    try:
        for tok in tokenize.generate_tokens(io.StringIO(line).readline):
            if tok.type == tokenize.COMMENT:
                return line[:tok.start[1]].rstrip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return line


def _code(node):
    """Generated code as ``srcad grad`` prints it (codegen's printer needs no locations)."""
    return codegen._Printer([], []).visit(codegen.to_ast(node)).strip()


def _steps(items, callees=False):
    for item in items:
        if isinstance(item, Step):
            yield item
            if callees and item.callee is not None:
                yield from _steps(item.callee.items, callees)
        else:
            yield from _steps(item.items, callees)


def _wrap(text):
    return textwrap.wrap(text, _WIDTH, break_long_words=False, break_on_hyphens=False) or [text]


def _shorten(text, width=60):
    return text if len(text) <= width else text[:width - 3] + "..."


# -- building it ----------------------------------------------------------------------

def adjoint_graph(graph, splitter):
    """The :class:`AdjointGraph` of an analyzed ``graph`` (fresh: the reverse
    sweep is generated from it, as ``grad`` would)."""
    from srcad import api
    from srcad.aux import refuse_tuple_output
    from srcad.pipeline import assume_scalar_output, reverse
    mode = "grad"
    try:
        refuse_tuple_output(graph)
    except SrcadError:
        mode = "vjp"                       # a tuple output: its VJP's reverse sweep
    if mode == "grad":                     # as grad does (pipeline.build)
        assume_scalar_output(graph)
    fdef, seed, gen = reverse(graph, mode, splitter)
    parsed = graph.parsed
    span = api._span(parsed)
    origins = codegen.Origins(fdef, parsed.source, span=span).walk(fdef.body)
    ret = next((s for s in reversed(fdef.body) if isinstance(s, gast.Return)), None)
    context = _Context(depth_of(getattr(graph, "expand", 0)), [parsed.func], [0], [fdef])
    sweep = _sweep(graph, gen, seed, f'"{escape(seed)}"', _reverse_part(fdef.body), origins, ret, context)
    return AdjointGraph(graph, sweep, codegen.to_source(fdef))


class _Context:
    """What every sweep of one picture shares: how deep callees expand, the
    functions being drawn (a recursive call stays one node), the step counter."""

    def __init__(self, depth, stack, counter, trees=()):
        self.depth, self.stack, self.counter = depth, stack, counter
        self.trees = trees              # the generated functions of this sweep (for its stacks)


def _sweep(graph, gen, seed, seed_id, body, origins, ret, context, func=None, call=None):
    """The :class:`Sweep` of a generated reverse sweep ``body`` of ``graph``."""
    origins = {id(stmt): origin for stmt, origin, _ in origins}
    builder = _Builder(origins, assigned_names(graph.fdef) - {seed}, seed, seed_id, context)
    builder.stacks = _stacks(gen, context.trees)
    items = builder.items(body)
    state = builder.run(items, {})
    results = _results(graph, ret, builder.adjoints | {seed})
    final = {name: state.get(name, {None}) for _, name in results if name}
    for step in _steps(items):
        if step.stmt is not None and len(context.stack) <= context.depth:
            step.callee = _callee_sweep(gen, step, context)
    lineno, line = (call.lineno, call.line) if call is not None else (None, "")
    sweep = Sweep(seed, seed_id, items, results, final, func, lineno, line)
    if call is not None and call.stmt.value.args:
        sweep.passed = _code(call.stmt.value.args[-1])
    return sweep


def _callee_sweep(gen, step, context):
    """The reverse sweep of the callee whose reverse function ``step`` calls
    (``du, dx = reverse_h(h_saved, dh)``), generated again as srcad did, or None."""
    from srcad import api
    from srcad.pipeline import split as split_of
    value = getattr(step.stmt, "value", None)
    if not isinstance(value, gast.Call) or not isinstance(value.func, gast.Name):
        return None
    cell = gen.refs.cells.get(value.func.id)
    split = next((c for c in gen.callees if c.reverse is cell), None)
    if split is None or split.func in context.stack:
        return None
    try:
        parsed, inner = api._callee_graph(split.func, split.wrt)
        fdef, rdef, inner_gen = split_of(inner, api.split, None)
    except SrcadError:
        return None
    span = api._span(parsed)
    origins = codegen.Origins(rdef, parsed.source, context=[fdef], span=span).walk(rdef.body, reverse=True)
    seed = rdef.args.args[-1].id
    context.counter[0] += 1
    seed_id = f'"seed {context.counter[0]}: {escape(seed)}"'
    ret = next((s for s in reversed(rdef.body) if isinstance(s, gast.Return)), None)
    body = [s for s in rdef.body if not isinstance(s, gast.Return)]
    inner_context = _Context(context.depth, context.stack + [split.func], context.counter, [fdef, rdef])
    return _sweep(inner, inner_gen, seed, seed_id, body, origins, ret, inner_context,
                  func=split.func, call=step)


def _reverse_part(body):
    """The statements after the ``# reverse sweep`` header (none without one)."""
    for i, stmt in enumerate(body):
        if not isinstance(stmt, gast.AST) and getattr(stmt, "header", False) \
                and stmt.text.strip() == "reverse sweep":
            return [s for s in body[i + 1:] if not isinstance(s, gast.Return)]
    return []


def _results(graph, ret, adjoints):
    """``(parameter, adjoint name or None)`` of each gradient returned."""
    value = ret.value if ret is not None else None
    parts = list(value.elts) if isinstance(value, gast.Tuple) and (len(graph.wrt) > 1 or graph.wrt_is_tuple) \
        else [value]
    results = []
    for param, part in zip(graph.wrt, parts):
        names = [n.id for n in name_nodes(part) if n.id in adjoints] if part is not None else []
        results.append((param, names[0] if names else None))
    return results


class _Builder:
    """Turns the reverse sweep into steps and blocks, then links reads to definitions."""

    def __init__(self, origins, primal, seed, seed_id, context):
        self.origins, self.primal, self.seed, self.seed_id = origins, primal, seed, seed_id
        self.context = context
        self.adjoints = set()
        self.stacks = set()             # names of the sweep's Stack()s: their pops are restores

    def items(self, stmts):
        out = []
        for stmt in stmts:
            if not isinstance(stmt, gast.AST):             # a comment
                continue
            origin = self.origins.get(id(stmt))
            if isinstance(stmt, gast.For):
                header = f"for {_code(stmt.target)} in {_code(stmt.iter)}"
                block = Block(header, origin, self.items(stmt.body), "rounded", True)
                out.append(block) if block.items else None
            elif isinstance(stmt, gast.While):
                block = Block(f"while {_code(stmt.test)}", origin, self.items(stmt.body), "rounded", True)
                out.append(block) if block.items else None
            elif isinstance(stmt, gast.If):
                test = f"if {_code(stmt.test)}"
                for header, part in ((test, stmt.body), ("else", stmt.orelse)):
                    block = Block(header, origin, self.items(part), "dashed", False, id(stmt))
                    if block.items:
                        out.append(block)
            else:
                step = self._step(stmt, origin)
                if step is not None:
                    out.append(step)
        return out

    def _step(self, stmt, origin):
        if _is_pop(stmt, self.stacks):    # a restore of a saved value: not drawn
            return None
        nodes = name_nodes(stmt)
        stored = [n.id for n in nodes if type(n.ctx) is gast.Store]
        targets = [n for n in dict.fromkeys(stored) if n not in self.primal]
        if not targets:                   # a restore of a forward value, a stack push
            return None
        self.adjoints.update(targets)
        known = self.adjoints | {self.seed}
        reads = [n for n in dict.fromkeys(n.id for n in nodes if type(n.ctx) is gast.Load)
                 if n in known]
        self.context.counter[0] += 1
        if not reads and _is_zeros(stmt):  # an adjoint started at zero for a loop or branch
            origin = None                  # to add to: it reverses no line of its own
        step = Step(self.context.counter[0], stmt, origin, targets, reads)
        step.seed_id = self.seed_id
        return step

    def run(self, items, state):
        """Reaching definitions: ``state`` maps a name to the steps whose value
        it may hold (None: the seed, as the sweep received it).  Returns the
        state after ``items``; fills each step's ``sources``."""
        state = {k: set(v) for k, v in state.items()}
        i = 0
        while i < len(items):
            item = items[i]
            if isinstance(item, Step):
                for name in item.reads:
                    found = state.get(name, {None} if name == self.seed else set())
                    item.sources.setdefault(name, set()).update(found)
                for name in item.targets:
                    state[name] = {item}
                i += 1
            elif item.loop:
                entry = state
                while True:              # the body's end flows into its start
                    end = self.run(item.items, state)
                    merged = _merge(entry, end)
                    if merged == state:
                        break
                    state = merged
                i += 1
            else:                         # a branch: its sides (if, else) start alike
                sides = [item]
                if i + 1 < len(items) and isinstance(items[i + 1], Block) \
                        and items[i + 1].branch == item.branch:
                    sides.append(items[i + 1])
                ends = [self.run(side.items, state) for side in sides]
                if len(sides) == 1:
                    ends.append(state)     # the side not taken leaves the state as it was
                state = _merge(*ends)
                i += len(sides)
        return state


def _stacks(gen, trees):
    """Names bound to srcad's ``Stack()`` in the generated functions ``trees``."""
    from srcad.runtime import Stack
    names = set()
    for tree in trees:
        for node in gast.walk(tree):
            if isinstance(node, gast.Assign) and isinstance(node.value, gast.Call) \
                    and isinstance(node.value.func, gast.Name) \
                    and gen.refs.cells.get(node.value.func.id, Stack if node.value.func.id == "Stack" else None) is Stack:
                names.update(n.id for n in node.targets if isinstance(n, gast.Name))
    return names


def _is_pop(stmt, stacks):
    """``v = v_stack.pop()``: the reverse sweep restoring a value saved on a stack."""
    value = getattr(stmt, "value", None)
    return isinstance(value, gast.Call) and not value.args and isinstance(value.func, gast.Attribute) \
        and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
        and value.func.value.id in stacks


def _is_zeros(stmt):
    value = getattr(stmt, "value", None)
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and value.func.id.startswith("zeros_like")


def _merge(*states):
    out = {}
    for state in states:
        for name, steps in state.items():
            out.setdefault(name, set()).update(steps)
    return out
