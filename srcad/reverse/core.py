"""The reverse generator's core: names of adjoints and helpers, the whole
function (forward sweep, reverse sweep, gradients returned); the class
that mixes in the parts of its own modules."""

import gast

from srcad import passes
from srcad.errors import SrcadError
from srcad.graph import SCALAR, Node
from srcad.ir import walk
from srcad.normalize import NameAllocator
from srcad.builders import assign, call, is_local as _is_local, name
from srcad.trees import name_nodes
from srcad.runtime import check_inputs, check_scalar, like, zeros_like
from srcad.reverse.flow import ControlFlow
from srcad.reverse.saves import Saves
from srcad.reverse.splits import Splits
from srcad.reverse.statements import Statements
from srcad.reverse.support import Comment, MODES, References, _copy, _identifier, _stored, _targets


class ReverseGenerator(ControlFlow, Splits, Saves, Statements):
    """Builds the gast FunctionDef of a gradient, VJP or value-and-gradient."""

    def __init__(self, graph, mode="grad", splitter=None, own=None):
        if mode not in MODES + ("split",):
            raise ValueError(f"unknown mode {mode!r}")
        self.graph = graph
        self.mode = mode
        self.splitter = splitter          # callee, wrt -> Split (see api.split)
        self.callees = []                 # the Splits this function calls
        self._saved = {}                  # usercall node -> name of its saved values
        self.restored = set()             # names the reverse sweep restores
        self.stacks = {}                  # value -> the name of its stack (resolve_saves)
        self._trips = {}                  # Loop -> its trip counter's name (kept off the graph)
        self._trips_saved = set()         # Loops whose counter is saved per outer iteration
        self.source = graph.parsed.source
        nodes = name_nodes(graph.fdef)               # one walk for both sets of names
        self.names = NameAllocator({n.id for n in nodes})
        self.refs = References(graph.parsed.namespace, self.names,
                               {n.id for n in nodes if type(n.ctx) in (gast.Store, gast.Param)})
        self._adjoints = {}
        self.defined = set()
        self._argument = {}               # reassigned parameter -> the name of its argument
        self._trial = 0                   # > 0 while a loop's fixpoint trial runs (discarded code)
        self._loop_fixpoints = {}         # (loop, adjoints defined on entry) -> adjoints the loop needs
        self._loop_exits = {}             # (loop, adjoints defined on entry) -> adjoints defined after it
        self.own_names = None
        if own is not None:               # a recursive call names the pair being made
            base = _identifier(graph.name)
            self.own_names = (self.names.fresh(f"forward_{base}"), self.names.fresh(f"reverse_{base}"))
            for cell, fname in zip((own.forward, own.reverse), self.own_names):
                self.refs.bind(fname, cell)

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
    def sweeps(self):
        """(setup, forward sweep, reverse sweep, gradient expression, seed name)."""
        graph = self.graph
        output = graph.output
        self._check_output(output)
        out_name = output.id if _is_local(output) else None
        self.initial = _initial_defs(graph)
        forward = self.forward_items(graph.body)
        if self.mode in ("grad", "value_and_grad") and out_name is not None \
                and not getattr(graph, "scalar_output_proven", False):
            # if type(out) is not float: check_scalar(out) -- a Python float
            # costs one type test; provably scalar outputs need no check at all
            test = gast.Compare(left=call(name("type"), name(out_name)), ops=[gast.IsNot()],
                                comparators=[name("float")])
            # (and the inputs: complex or masked arguments almost never give
            # a Python float, so a float output costs no input check either)
            # (parameters that keep their value to the end; the others first)
            check = gast.Expr(value=call(self.ref(check_scalar, "check_scalar"), name(out_name)))
            kept = [w for w in graph.wrt if w not in _targets(graph)]
            changed = [w for w in graph.wrt if w not in kept]
            forward.append(gast.If(test=test, body=[check] + self._check_inputs(kept), orelse=[]))
            forward[:0] = self._check_inputs(changed)
        elif self.mode != "split":
            forward[:0] = self._check_inputs(graph.wrt)    # no output check to carry it
        reverse = []
        if out_name in graph.params:
            # f returns (a later value of) its own parameter x: the seed is not dx,
            # which will be x's gradient; call it dout and start dx from it
            seed = self.names.fresh("dout")
            reverse.append(assign(self.adjoint(out_name), name(seed)))
        else:
            seed = self.adjoint(out_name) if out_name else self.names.fresh("dout")
        if out_name is not None and out_name in graph.varied:
            self.defined = {out_name}
            reverse += self.reverse_items(graph.body)
        else:
            reverse = []
        setup, forward, reverse = self.resolve_saves(forward, reverse)
        early = self._early_zeros(forward)
        grads = [self.gradient(w, boundary=self.mode != "split") for w in graph.wrt]
        result = grads[0] if len(grads) == 1 and not graph.wrt_is_tuple else \
            gast.Tuple(elts=grads, ctx=gast.Load())
        return early + setup, forward, reverse, result, seed

    def _early_zeros(self, forward):
        """``y_arg = y`` before the forward sweep, for a ``wrt`` parameter that
        the function reassigns (in a loop or a branch: names reassigned in
        straight-line code get versions).  At the end of the reverse sweep
        ``y`` holds its original value only where the reverse restores it (it
        does not where nothing reads it, as in ``for ...: y = 0.0``); the gradient returned
        (``zeros_like(y)``, ``like(dy, y)``) must have the shape and structure
        of the argument, not of the value ``y`` was given later."""
        reassigned = _stored(forward) - self.restored     # restored: y is the argument again
        params = [w for w in dict.fromkeys(self.graph.wrt) if w in reassigned]
        if not params:
            return []
        self._argument = {w: self.names.fresh(f"{w}_arg") for w in params}
        stmts = [Comment(f"{', '.join(params)} reassigned below: the argument, for the gradient's shape")]
        return stmts + [assign(self._argument[w], name(w)) for w in params]

    def generate(self):
        graph = self.graph
        output = graph.output
        setup, forward, reverse, result, seed = self.sweeps()
        aux = getattr(graph, "aux", None)
        if aux is not None:
            aux = self._kept(forward, aux, "aux")
        if self.mode == "value_and_grad":
            value = self._kept(forward, output, "value")
            if aux is not None:
                value = gast.Tuple(elts=[value, aux], ctx=gast.Load())
            result = gast.Tuple(elts=[value, result], ctx=gast.Load())
        elif aux is not None:
            result = gast.Tuple(elts=[result, aux], ctx=gast.Load())
        body = [*setup, Comment("forward sweep", header=True), *forward]
        if reverse:
            body += [Comment("reverse sweep", header=True), *reverse]
        body.append(gast.Return(value=result))
        args = _copy(graph.fdef.args)
        args.args.append(gast.Name(id=seed, ctx=gast.Param(), annotation=None, type_comment=None))
        if self.mode != "vjp":
            args.defaults.append(gast.Constant(value=1.0, kind=None))
        fname = self.names.fresh(f"{self.mode}_{_identifier(graph.name)}")
        fdef = gast.FunctionDef(name=fname, args=args, body=body, decorator_list=[],
                                returns=None, type_comment=None, type_params=[])
        return fdef, seed

    def _pass_context(self):
        """What the clean-up passes that add code need: helper names, fresh names."""
        return passes.Context(name_of=self.refs.name_of,
                              ref=self.refs.ref, fresh=self.names.fresh,
                              shape_class=getattr(self.graph, "shape_class", None))

    def _check_inputs(self, params):
        """``check_inputs(x, ...)``: refuse complex and masked arguments."""
        if not params:
            return []
        return [gast.Expr(value=call(self.ref(check_inputs, "check_inputs"),
                                     *[name(w) for w in params]))]

    def _check_output(self, output):
        if output is None or (isinstance(output, gast.Constant) and output.value is None):
            raise self.source.error(
                SrcadError, f"{self.graph.name!r} returns None, so there is nothing to differentiate",
                self.graph.fdef, hint="return the value to differentiate")

    def gradient(self, param, boundary=False):
        """The gradient returned for ``param``.  At the API ``boundary`` (the
        function the user transforms, not a split callee) it goes through
        ``like(dx, x)``: the argument's structure and dtype (lists as lists,
        every key of a dict, float32 kept), except where shape classes prove
        ``x`` a scalar, whose gradient already is a float."""
        argument = name(self._argument.get(param, param))     # (reassigned: _early_zeros)
        if param in self.defined:
            grad = name(self.adjoint(param))
            # (a split callee hands its caller the sparse DictAdjoints of a dict:
            # completing it would add zeros for every other entry at every call)
        else:
            grad = call(self.ref(zeros_like, "zeros_like"), argument)
        if boundary and self.graph.shape_class.get(param) != SCALAR:
            return call(self.ref(like, "like"), grad, argument)
        return grad

    def _zeros(self, primal):
        self.defined.add(primal)
        return assign(self.adjoint(primal), call(self.ref(zeros_like, "zeros_like"), name(primal)))


def _initial_defs(graph):
    """Nodes that bind a name for the first time, at the top level of the
    function, before any redefinition: nothing is overwritten there."""
    seen, top = set(graph.params), set(map(id, graph.body))
    initial = set()
    for item in walk(graph.body):
        if isinstance(item, Node) and item.target is not None and item.target not in seen:
            if id(item) in top:
                initial.add(item)
            seen.add(item.target)
    return initial
