"""Stage 4, reverse: the computational graph -> the adjoint function.

Worked example.  For ``def f(x, y, z): p = x + y; g = p * z; return g`` the
graph has two active nodes, ``p = add(x, y)`` and ``g = mul(p, z)``.  The
generated function runs the *forward sweep* (the normalized body), then the
*reverse sweep*: the nodes in reverse order, each inlining its derivative rule
with the cotangent of its output::

    def grad_f(x, y, z, dg=1.0):
        # forward sweep
        p = x + y
        g = p * z
        check_scalar(g)
        # reverse sweep
        # g = p * z
        dp = dg * z           # multiply rule, output 0: unbroadcast(g * y, x)
        dz = dg * p           # multiply rule, output 1: unbroadcast(g * x, y)
        # p = x + y
        dx = dp
        dy = dp
        return dx, dy, dz

The adjoint of a value is named after it (``dp`` for ``p``).  Its first
contribution is an assignment; later ones (fan-out: the value was used more
than once) accumulate with ``dx = dx + ...``, which never modifies an array in
place, so no adjoint can alias another or an input.  Only active nodes and
active arguments produce code, so nothing inactive is computed.  The
``unbroadcast`` calls vanished above because shape classes prove ``p``,
``z``... are scalars once ``check_scalar`` has passed.
"""

import gast

from srcad import optimize
from srcad.errors import SrcadError
from srcad.graph import IndexAtom, atom_names
from srcad.normalize import NameAllocator, all_names
from srcad.runtime import check_scalar, unbroadcast, zeros_like

MODES = ("grad", "value_and_grad", "vjp")


def name(id_):
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return gast.Name(id=id_, ctx=gast.Store(), annotation=None, type_comment=None)


def assign(target, value):
    return gast.Assign(targets=[store(target)], value=value, type_comment=None)


def call(func, *args):
    return gast.Call(func=func, args=list(args), keywords=[])


class Comment:
    """A comment line for the generated source (codegen turns it into ``# text``)."""

    def __init__(self, text, header=False):
        self.text = text
        self.header = header      # a section header stays even before other comments


class References:
    """How generated code names the objects a rule uses (``np``, ``unbroadcast``).

    When the user's own namespace already binds the name to the same object,
    generated code uses it as is; otherwise the object is handed to the
    generated function as a closure cell under a name that clashes with
    nothing in it.
    """

    def __init__(self, namespace, allocator, local_names):
        self.namespace = namespace
        self.allocator = allocator
        self.local_names = local_names
        self.cells = {}
        self._names = {}

    def __call__(self, wanted, obj):
        key = id(obj)
        if key in self._names:
            return self._names[key]
        if self.namespace.lookup(wanted, None) is obj and wanted not in self.local_names:
            chosen = wanted
        else:
            chosen = self.allocator.fresh(wanted)
            self.cells[chosen] = obj
        self._names[key] = chosen
        return chosen


class ReverseGenerator:
    """Builds the gast FunctionDef of a gradient, VJP or value-and-gradient."""

    def __init__(self, graph, mode="grad"):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        self.graph = graph
        self.mode = mode
        self.source = graph.parsed.source
        taken = all_names(graph.fdef)
        self.names = NameAllocator(taken)
        self.refs = References(graph.parsed.namespace, self.names, set(taken))
        self._adjoints = {}
        self.defined = set()

    # -- names ---------------------------------------------------------------
    def adjoint(self, primal):
        """The name of the adjoint of ``primal``: ``dx`` for ``x``."""
        found = self._adjoints.get(primal)
        if found is None:
            base = f"d{primal}" if f"d{primal}" not in self.names.taken else f"d_{primal}"
            found = self._adjoints[primal] = self.names.fresh(base)
        return found

    def ref(self, obj, wanted):
        return name(self.refs(wanted, obj))

    # -- the whole function ----------------------------------------------------
    def generate(self):
        graph = self.graph
        output = graph.output
        self._check_output(output)
        out_name = output.id if _is_local(output) else None
        forward = [_copy(node.stmt) for node in graph.nodes]
        if self.mode in ("grad", "value_and_grad") and out_name is not None:
            forward.append(gast.Expr(value=call(self.ref(check_scalar, "check_scalar"), name(out_name))))
        seed = self.adjoint(out_name) if out_name else self.names.fresh("dout")
        reverse = []
        if out_name is not None and out_name in graph.varied:
            self.defined = {out_name}
            reverse = self.reverse_sweep(graph.nodes)
        grads = [self.gradient(w) for w in graph.wrt]
        result = grads[0] if len(grads) == 1 and not graph.wrt_is_tuple else \
            gast.Tuple(elts=grads, ctx=gast.Load())
        if self.mode == "value_and_grad":
            result = gast.Tuple(elts=[_copy(output), result], ctx=gast.Load())
        body = [Comment("forward sweep", header=True), *forward]
        if reverse:
            body += [Comment("reverse sweep", header=True), *reverse]
        body.append(gast.Return(value=result))
        body = optimize.eliminate_dead_code(body)
        args = _copy(graph.fdef.args)
        args.args.append(gast.Name(id=seed, ctx=gast.Param(), annotation=None, type_comment=None))
        if self.mode != "vjp":
            args.defaults.append(gast.Constant(value=1.0, kind=None))
        prefix = {"grad": "grad", "value_and_grad": "value_and_grad", "vjp": "vjp"}[self.mode]
        fname = self.names.fresh(f"{prefix}_{_identifier(graph.name)}")
        fdef = gast.FunctionDef(name=fname, args=args, body=body, decorator_list=[],
                                returns=None, type_comment=None, type_params=[])
        return fdef, seed

    def _check_output(self, output):
        if isinstance(output, gast.Constant) and output.value is None:
            raise self.source.error(
                SrcadError, f"{self.graph.name!r} returns None, so there is nothing to differentiate",
                self.graph.fdef, hint="return the value to differentiate")

    def gradient(self, param):
        if param in self.defined:
            return name(self.adjoint(param))
        return call(self.ref(zeros_like, "zeros_like"), name(param))

    # -- the reverse sweep -------------------------------------------------------
    def reverse_sweep(self, nodes):
        out, last_line = [], None
        for node in reversed(nodes):
            if not node.active or node.target not in self.defined:
                continue
            stmts = self.reverse_node(node)
            if stmts and (node.lineno, node.end_lineno) != last_line:
                out.append(Comment(self.graph.source_text(node)))
                last_line = (node.lineno, node.end_lineno)
            out.extend(stmts)
        return out

    def reverse_node(self, node):
        g, ans = name(self.adjoint(node.target)), name(node.target)
        if node.kind == "pack":
            stmts = []
            for i, elt in enumerate(node.args):
                if self._varied(elt):
                    index = gast.Subscript(value=g, slice=gast.Constant(value=i, kind=None), ctx=gast.Load())
                    stmts.append(self.contribute(elt.id, index))
            self.defined.discard(node.target)
            return stmts
        tmpl = node.rule
        mapping = {p: self._expression(a) for p, a in node.binding.items()}
        wanted = {}
        for param, atom in node.binding.items():
            if isinstance(atom, gast.AST) and self._varied(atom):
                wanted[tmpl.index(param)] = atom
        prelude, outs = tmpl.instantiate(
            [g, ans], mapping, sorted(wanted),
            fresh=lambda base: self.names.fresh(f"{node.target}_{base}"),
            reference=self.refs)
        stmts = list(prelude)
        unbroadcast_name = self.refs("unbroadcast", unbroadcast)
        for index, atom in sorted(wanted.items()):
            expr = optimize.drop_unbroadcast(outs[index], node, self.graph.shape_class,
                                             unbroadcast_name)
            if isinstance(atom, gast.Name):
                stmts.append(self.contribute(atom.id, expr))
            else:
                stmts.extend(self._distribute(node, atom, expr))
        self.defined.discard(node.target)
        return stmts

    def _distribute(self, node, sequence, expr):
        """Split the adjoint of a literal sequence argument among its elements."""
        holder = self.names.fresh(f"d{node.target}_parts")
        stmts = [assign(holder, expr)]
        for i, elt in enumerate(sequence.elts):
            if self._varied(elt):
                part = gast.Subscript(value=name(holder), slice=gast.Constant(value=i, kind=None),
                                      ctx=gast.Load())
                stmts.append(self.contribute(elt.id, part))
        return stmts

    def contribute(self, primal, expr):
        """``dprimal = expr`` for the first contribution, else accumulate."""
        d = self.adjoint(primal)
        if primal in self.defined:
            expr = gast.BinOp(left=name(d), op=gast.Add(), right=expr)
        self.defined.add(primal)
        return assign(d, expr)

    def _varied(self, atom):
        return any(n in self.graph.varied for n in atom_names(atom))

    def _expression(self, atom):
        """An atom as an expression a rule template can use."""
        if isinstance(atom, IndexAtom) or _has_slice(atom):
            index = atom.index if isinstance(atom, IndexAtom) else atom
            if not _has_slice(index):
                return _copy(index)
            import numpy as np
            return gast.Subscript(value=gast.Attribute(value=self.ref(np, "np"), attr="s_",
                                                       ctx=gast.Load()),
                                  slice=_copy(index), ctx=gast.Load())
        return atom


def _has_slice(tree):
    return isinstance(tree, gast.AST) and any(isinstance(n, gast.Slice) for n in gast.walk(tree))


def _is_local(atom):
    return isinstance(atom, gast.Name) and getattr(atom, "srcad_local", False)


def _identifier(text):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text) or "f"


def _copy(tree):
    import copy
    return copy.deepcopy(tree)


def reverse_function(graph, mode):
    """The adjoint of ``graph`` as (gast FunctionDef, seed name, references)."""
    gen = ReverseGenerator(graph, mode)
    fdef, seed = gen.generate()
    return fdef, seed, gen.refs

