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

(The clean-up passes of :mod:`srcad.passes` then propagate the copies: the
emitted function returns ``(dp, dp, dz)``.)

The adjoint of a value is named after it (``dp`` for ``p``).  Its first
contribution is an assignment; later ones (fan-out: the value was used more
than once) accumulate with ``dx = dx + ...``, which never modifies an array in
place, so no adjoint can alias another or an input.  Only active nodes and
active arguments produce code, so nothing inactive is computed.  The
``unbroadcast`` calls vanished above because shape classes prove ``p``,
``z``... are scalars once ``check_scalar`` has passed.
"""

import copy
import operator

import gast
import numpy as np

from srcad import passes
from srcad.passes.dead_code import live_in
from srcad.passes.unbroadcast import drop_unbroadcast
from srcad.errors import SrcadError
from srcad.graph import (DICT_READS, SCALAR, Branch, IndexAtom, Loop, Node, atom_names,
                         readonly_effect, varied_from)
from srcad.normalize import NameAllocator
from srcad.rules.template import clone
from srcad.builders import assign, call, is_local as _is_local, name, store
from srcad.trees import loaded, name_nodes, stored, walk
from srcad.runtime import (Stack, add_at, check_inputs, check_scalar, checked, identity, like, list_append,
                           readonly, restore_entry, scatter_add, snapshot, saved_entry, setitem, unbroadcast,
                           zeros_like)

MODES = ("grad", "value_and_grad", "vjp")


class Comment:
    """A comment line for the generated source (codegen turns it into ``# text``)."""

    def __init__(self, text, header=False, lineno=None):
        self.text = text
        self.header = header      # a section header stays even before other comments
        self.lineno = lineno      # the user's line it quotes (for traceback annotations)


APPEND = "append"     # marker index: the definition was L.append(v)


class Save:
    """Marker: the forward sweep is about to overwrite ``var`` (or ``var[index]``)."""

    def __init__(self, var, index=None):
        self.var = var
        self.index = index


class Restore:
    """Marker: the reverse sweep has reversed a definition of ``var`` (or ``var[index]``)."""

    def __init__(self, var, index=None):
        self.var = var
        self.index = index


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
        if self.namespace.lookup(wanted, None, record_missing=False) is obj and \
                wanted not in self.local_names:
            chosen = wanted
        else:
            chosen = self.allocator.fresh(wanted)
            self.cells[chosen] = obj
        self._names[key] = chosen
        return chosen

    def bind(self, chosen, obj):
        """Refer to ``obj`` as ``chosen`` (a name already taken from the allocator)."""
        self._names[id(obj)] = chosen
        self.cells[chosen] = obj

    def name_of(self, obj):
        """The name ``obj`` was handed out under, or None."""
        return self._names.get(id(obj))

    def snapshot(self):
        """The references handed out so far, for :meth:`restore` after a
        discarded trial (the reverse loop's fixpoint)."""
        return dict(self.cells), dict(self._names)

    def restore(self, state):
        cells, names = state
        self.cells, self._names = dict(cells), dict(names)


class ReverseGenerator:
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

    def generate_split(self):
        """Two functions for a callee: ``forward_h(*args) -> (value, saved)`` and
        ``reverse_h(saved, dvalue) -> gradients``; the caller keeps ``saved``
        from its forward sweep to its reverse sweep, so nothing is recomputed."""
        graph = self.graph
        setup, forward, reverse, result, seed = self.sweeps()
        available = set(graph.params) | _stored(setup + forward)
        kept = sorted(live_in(reverse + [gast.Return(value=result)]) & available)
        self.constant_saved = _constant_saved(graph, kept, self.stacks)
        saved = self.names.fresh("saved")
        pack = gast.Tuple(elts=[name(v) for v in kept], ctx=gast.Load())
        # a value bound only in a branch that did not run is packed as None
        # (its reverse branch does not run either)
        bound_first = set(graph.params) | {n.target for n in self.initial} | _stored(setup)
        unbound = [assign(v, gast.Constant(value=None, kind=None)) for v in kept
                   if v not in bound_first]
        fbody = [*unbound, *setup, *forward, gast.Return(value=gast.Tuple(elts=[_copy(graph.output), pack],
                                                                  ctx=gast.Load()))]
        unpack = gast.Assign(targets=[gast.Tuple(elts=[store(v) for v in kept], ctx=gast.Store())],
                             value=name(saved), type_comment=None)
        rbody = ([unpack] if kept else []) + reverse + [gast.Return(value=result)]
        fname, rname = self.own_names or (self.names.fresh(f"forward_{_identifier(graph.name)}"),
                                          self.names.fresh(f"reverse_{_identifier(graph.name)}"))
        fdef = gast.FunctionDef(name=fname, args=_copy(graph.fdef.args),
                                body=fbody, decorator_list=[], returns=None, type_comment=None,
                                type_params=[])
        rargs = gast.arguments(args=[gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
                                     for n in (saved, seed)],
                               posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                               kwarg=None, defaults=[])
        rdef = gast.FunctionDef(name=rname, args=rargs, body=rbody,
                                decorator_list=[], returns=None, type_comment=None, type_params=[])
        return fdef, rdef

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
                              ref=lambda obj, wanted: self.refs(wanted, obj), fresh=self.names.fresh,
                              shape_class=getattr(self.graph, "shape_class", None))

    def _check_inputs(self, params):
        """``check_inputs(x, ...)``: refuse complex and masked arguments."""
        if not params:
            return []
        return [gast.Expr(value=call(self.ref(check_inputs, "check_inputs"),
                                     *[name(w) for w in params]))]

    def _kept(self, forward, atom, base):
        """``atom`` as the forward sweep leaves it, to return after the reverse
        sweep: copied into a fresh name where the reverse sweep restores one
        of its names, and snapshotted (``snapshot``) where it reads a list or
        array updated in place, whose updates the reverse sweep undoes."""
        names, todo = set(), list(atom_names(atom))
        packs = {n.target: n for n in self.graph.nodes if n.kind == "pack"}
        while todo:                        # the names inside containers it holds, too
            found = todo.pop()
            if found not in names:
                names.add(found)
                if found in packs:
                    todo += [n for a in packs[found].args for n in atom_names(a)]
        updated = {n.target for n in self.graph.nodes if n.primitive in (setitem, list_append)}
        if not names & (self.restored | updated):
            return _copy(atom)
        kept = self.names.fresh(base)
        value = _copy(atom)
        if names & updated:
            value = call(self.ref(snapshot, "snapshot"), value)
        forward.append(assign(kept, value))
        return name(kept)

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

    # -- the forward sweep -------------------------------------------------------
    def forward_items(self, items, in_loop=False):
        """The normalized body, with a save point before every redefinition
        and a trip counter in loops whose iterations cannot be recounted."""
        out = []
        for item in items:
            if isinstance(item, Node):
                out.extend(guard_statements(item, self.ref))
                if item.target is not None and item not in self.initial:
                    out.append(Save(item.target, self._item_index(item)))
                if item.kind == "usercall" and item.active:
                    out.extend(self.forward_call(item))
                    continue
                if getattr(item, "readonly", None):    # an effect on values with derivatives
                    out.append(readonly_effect(item, lambda: self.ref(readonly, "readonly")))
                    continue
                out.append(item.stmt)                # shared with the graph, never mutated
            elif isinstance(item, Branch):
                out.append(gast.If(test=_copy(item.test), body=self.forward_items(item.body, in_loop),
                                   orelse=self.forward_items(item.orelse, in_loop)))
            elif isinstance(item, Loop):
                body = self.forward_items(item.body, True)
                if self._needs_trips(item):
                    trips = self._trips[item] = self.names.fresh("trips")
                    if in_loop:                # a count per outer iteration: saved like a value
                        out.append(Save(trips))
                        self._trips_saved.add(item)
                    out.append(assign(trips, gast.Constant(value=0, kind=None)))
                    body.insert(0, assign(trips, gast.BinOp(left=name(trips), op=gast.Add(),
                                                            right=gast.Constant(value=1, kind=None))))
                loop = copy.copy(item.stmt)          # the header; the body is new
                loop.body = body
                out.append(loop)
            else:
                out.append(_copy(item.stmt))
        return out

    def _item_index(self, node):
        """For ``x[i] = v``: the index expression, since only ``x[i]`` is overwritten."""
        if node.primitive is setitem:
            return node.args[1].index                 # slice syntax, used inside x[...]
        if node.primitive is list_append:
            return APPEND                             # undone by L.pop(), no stack
        return None

    def forward_call(self, node):
        """``y, y_saved = forward_h(...)``: the callee's forward sweep, keeping
        the values its reverse sweep will need."""
        split = self._split(node)
        saved = self._saved[node] = self.names.fresh(f"{node.target}_saved")
        value = _copy(node.stmt.value)
        value.func = self.ref(split.forward, f"forward_{_identifier(node.callee.__name__)}")
        if getattr(node, "bound_self", None) is not None:     # model.energy(x): forward_energy(model, x)
            value.args = [_copy(node.bound_self), *value.args]
        targets = gast.Tuple(elts=[store(node.target), store(saved)], ctx=gast.Store())
        stmt = gast.copy_location(gast.Assign(targets=[targets], value=value, type_comment=None),
                                  node.stmt)
        marks = [Save(saved)] if node not in self.initial else []
        return marks + [stmt]

    def _split(self, node):
        if self.splitter is None:
            raise self.source.error(SrcadError, "calls into user functions need a splitter",
                                    node.stmt.value)
        try:
            split = self.splitter(node.callee, node.callee_wrt)
        except SrcadError as exc:
            if exc.lineno is not None:
                raise
            raise self.source.error(type(exc), f"while differentiating the call of "
                                    f"{node.callee.__qualname__}: {exc.message}",
                                    node.stmt.value, hint=exc.hint) from None
        if split not in self.callees:
            self.callees.append(split)
        return split

    def reverse_call(self, node, g):
        """The callee's reverse sweep, then the contributions to the arguments."""
        split = self._split(node)
        forward = self.refs(f"forward_{_identifier(node.callee.__name__)}", split.forward)
        func = self.ref(split.reverse, "reverse" + forward[len("forward"):])   # forward_h_2: reverse_h_2
        grads = call(func, name(self._saved[node]), g)
        atoms = [node.binding[p] for p in node.callee_wrt]
        whole = atoms[0] if len(atoms) == 1 else gast.Tuple(elts=atoms, ctx=gast.Load())
        return self._spread(whole, grads, f"d{node.target}_args")

    @staticmethod
    def _needs_trips(loop):
        return loop.kind == "while" or loop.has_break

    # -- the reverse sweep -------------------------------------------------------
    def reverse_items(self, items, context=None):
        """The reverse of a block; ``context`` is the enclosing branch or loop
        comment, not repeated inside it."""
        out, last_line = [], None
        context_text = context.text if context is not None else None
        for item in reversed(items):
            if isinstance(item, Node):
                stmts = []
                if item.target is not None and item.target in self.defined:
                    if item.active:
                        stmts = self.reverse_node(item)
                    else:
                        self.defined.discard(item.target)   # a new value: its old adjoint ends
                if stmts and (item.lineno, item.end_lineno) != last_line:
                    text = self.graph.source_text(item)
                    if text != context_text:
                        out.append(Comment(text, lineno=item.lineno))
                    last_line = (item.lineno, item.end_lineno)
                out.extend(stmts)
                if item.target is not None and item not in self.initial:
                    out.append(Restore(item.target, self._item_index(item)))
                    if item in self._saved:
                        out.append(Restore(self._saved[item]))
            elif isinstance(item, Branch):
                out.extend(self.reverse_branch(item))
                last_line = None
            elif isinstance(item, Loop):
                out.extend(self.reverse_loop(item))
                last_line = None
        return out

    def reverse_branch(self, branch):
        """Re-test the condition (restored to its forward value) and reverse
        the branch that ran; an adjoint defined on one side only gets zeros
        on the other, so both sides leave the same adjoints defined."""
        before = set(self.defined)
        comment = Comment(self.graph.line_text(branch.lineno), lineno=branch.lineno)
        body = self.reverse_items(branch.body, comment)
        after_body = self.defined
        self.defined = set(before)
        orelse = self.reverse_items(branch.orelse, comment)
        after_else = self.defined
        both = after_body | after_else
        body += [self._zeros(v) for v in sorted(both - after_body)]
        orelse += [self._zeros(v) for v in sorted(both - after_else)]
        self.defined = both
        if not _has_code(body) and not _has_code(orelse):
            return body + orelse
        test = _copy(branch.test)
        if not _has_code(body):
            test, body, orelse = gast.UnaryOp(op=gast.Not(), operand=test), orelse, []
        return [comment, gast.If(test=test, body=body, orelse=orelse)]

    def reverse_loop(self, loop):
        """Replay the iterations backwards.  Adjoints that the body accumulates
        (shared weights) start as zeros before the loop; adjoints the body
        ends are re-zeroed at its end, so every iteration starts alike.

        Which adjoints those are is a fixpoint over trial reversals of the
        body whose code is discarded.  Both the fixpoint and the set of
        adjoints defined after the loop depend only on the loop and the
        adjoints defined on entry, so they are remembered: a nested loop met
        again during an enclosing loop's trials costs nothing, and each loop
        body is generated a bounded number of times however deep it is
        nested (plain trials would cost 2^depth).
        """
        key = (id(loop), frozenset(self.defined))
        if self._trial and key in self._loop_exits:
            self.defined = set(self._loop_exits[key])        # only its effect matters here
            return []
        entry = self._loop_fixpoints.get(key)
        if entry is None:
            entry = self._loop_fixpoints[key] = frozenset(self._loop_fixpoint(loop))
        inits = [self._zeros(v) for v in sorted(entry - self.defined)]
        self.defined = set(entry)
        comment = Comment(self.graph.line_text(loop.lineno), lineno=loop.lineno)
        body = self.reverse_items(loop.body, comment)
        body += [self._zeros(v) for v in sorted(entry - self.defined)]
        self.defined = set(entry)
        self._loop_exits[key] = entry
        after = [Restore(self._trips[loop])] if loop in self._trips_saved else []
        if not _has_code(body):
            return inits + body + after
        reversed_loop = gast.For(target=self._reverse_target(loop), iter=self._reverse_iter(loop),
                                 body=body, orelse=[], type_comment=None)
        reversed_loop.srcad_reverse = True    # its header cannot raise: the forward loop ran it
        first = _first_index(loop)
        if first is not None:          # for passes/last_adjoint.py
            reversed_loop.srcad_last = (loop.target, first, {self.adjoint(v) for v in entry})
        return inits + [comment, reversed_loop] + after

    def _loop_fixpoint(self, loop):
        """The adjoints defined at the start of every reversed iteration: those
        defined on entry plus those the body defines, until nothing grows."""
        entry = set(self.defined)
        self._trial += 1
        try:
            while True:
                state = self._snapshot()
                self.defined = set(entry)
                self.reverse_items(loop.body)
                grown = self.defined - entry
                self._restore(state)
                if not grown:
                    return entry
                entry |= grown
        finally:
            self._trial -= 1

    def _reverse_target(self, loop):
        return store(loop.target if loop.kind == "for" else "_")

    def _reverse_iter(self, loop):
        if loop.kind == "while":
            return call(name("range"), name(self._trips[loop]))
        iterable = _copy(loop.stmt.iter)
        if loop.has_break:
            iterable = gast.Subscript(value=iterable, slice=gast.Slice(
                lower=None, upper=name(self._trips[loop]), step=None), ctx=gast.Load())
        return call(name("reversed"), iterable)

    def _zeros(self, primal):
        self.defined.add(primal)
        return assign(self.adjoint(primal), call(self.ref(zeros_like, "zeros_like"), name(primal)))

    def _snapshot(self):
        return self.names.snapshot(), dict(self._adjoints), set(self.defined), self.refs.snapshot()

    def _restore(self, state):
        names, adjoints, defined, refs = state
        self.names.restore(names)
        self._adjoints, self.defined = adjoints, defined
        self.refs.restore(refs)

    # -- saving what the forward sweep overwrites -------------------------------
    def resolve_saves(self, forward, reverse):
        """Turn save/restore markers into stack pushes and pops, only for the
        values the reverse sweep actually reads."""
        read = _reads(reverse)
        restored = {m.var for m in _markers(forward) if m.var in read}
        self.restored = restored
        saved = sorted({m.var for m in _markers(forward) if m.var in read and m.index is not APPEND})
        stacks = self.stacks = {v: self.names.fresh(f"{v}_stack") for v in saved}
        stack_class = self.ref(Stack, "Stack") if saved else None
        setup = [assign(stacks[v], call(stack_class)) for v in saved]
        defined_first = {n.target for n in self.initial} | set(self.graph.params)
        setup += [assign(v, gast.Constant(value=None, kind=None)) for v in saved
                  if v not in defined_first]
        entries = _entry_bases(self.graph)

        def lower(stmts):
            out = []
            for stmt in stmts:
                if isinstance(stmt, Restore) and stmt.index is APPEND:
                    if stmt.var in restored:
                        pop = gast.Attribute(value=name(stmt.var), attr="pop", ctx=gast.Load())
                        out.append(gast.Expr(value=call(pop)))
                    continue
                if isinstance(stmt, Save) and stmt.index is APPEND:
                    continue
                if isinstance(stmt, Save):
                    if stmt.var in stacks:
                        push = gast.Attribute(value=name(stacks[stmt.var]), attr="push", ctx=gast.Load())
                        value = name(stmt.var)
                        if stmt.var in entries and stmt.index is not None:   # a dict entry (maybe new)
                            value = call(self.ref(saved_entry, "saved_entry"), value,
                                         rule_argument(stmt.index, self.ref))
                        elif stmt.index is not None:    # the overwritten part, copied
                            part = gast.Subscript(value=value, slice=_copy(stmt.index), ctx=gast.Load())
                            value = call(gast.Attribute(value=self.ref(np, "np"), attr="copy",
                                                        ctx=gast.Load()), part)
                        out.append(gast.Expr(value=call(push, value)))
                    continue
                if isinstance(stmt, Restore):
                    if stmt.var in stacks:
                        pop = gast.Attribute(value=name(stacks[stmt.var]), attr="pop", ctx=gast.Load())
                        if stmt.index is None:
                            restore = assign(stmt.var, call(pop))
                        elif stmt.var in entries:
                            restore = gast.Expr(value=call(self.ref(restore_entry, "restore_entry"),
                                                           name(stmt.var), rule_argument(stmt.index, self.ref),
                                                           call(pop)))
                        else:
                            where = gast.Subscript(value=name(stmt.var), slice=_copy(stmt.index),
                                                   ctx=gast.Store())
                            restore = gast.Assign(targets=[where], value=call(pop), type_comment=None)
                        restore.srcad_effect = True
                        out.append(restore)
                    continue
                for field in ("body", "orelse"):
                    if isinstance(getattr(stmt, field, None), list):
                        setattr(stmt, field, lower(getattr(stmt, field)))
                out.append(stmt)
            return out

        return setup, lower(forward), _prune(lower(reverse))

    def reverse_node(self, node):
        g, ans = name(self.adjoint(node.target)), name(node.target)
        if node.kind == "pack":
            stmts = []
            for key, elt in node.parts():
                if self._varied(elt):
                    index = gast.Subscript(value=g, slice=_copy(key), ctx=gast.Load())
                    stmts.append(self.contribute(elt.id, index))
            self.defined.discard(node.target)
            return stmts
        if node.kind == "usercall":
            stmts = self.reverse_call(node, g)
            self.defined.discard(node.target)
            return stmts
        tmpl = node.rule
        mapping = {p: self._expression(a) for p, a in node.binding.items()}
        wanted = {}
        for param, atom in node.binding.items():
            if isinstance(atom, gast.AST) and self._varied(atom) and not tmpl.is_zero(param):
                wanted[tmpl.index(param)] = atom   # (a zeros_like output: shape only)
        prelude, outs = tmpl.instantiate(
            [g, ans], mapping, sorted(wanted),
            fresh=lambda base: self.names.fresh(f"{node.target}_{base}"),
            reference=self.refs)
        stmts = list(prelude)
        unbroadcast_name = self.refs("unbroadcast", unbroadcast)
        # An in-place update (x[i] = v) reads and redefines x: the other
        # contributions read dx first, then dx becomes the old x's adjoint.
        order = sorted(wanted.items(), key=lambda kv: (_is_name(kv[1], node.target), kv[0]))
        for index, atom in order:
            expr = drop_unbroadcast(outs[index], node, self.graph.shape_class,
                                             unbroadcast_name)
            if not tmpl.rule.__module__.startswith("srcad."):
                expr = call(self.ref(checked, "checked"), expr, _copy(atom),
                            gast.Constant(value=tmpl.name, kind=None))
            if _is_name(atom, node.target):
                self.defined.discard(node.target)
            if isinstance(atom, gast.Name):
                stmts.append(self.contribute(atom.id, expr))
            else:
                stmts.extend(self._spread(atom, expr, f"d{node.target}_parts"))
        if not any(_is_name(a, node.target) for a in wanted.values()):
            self.defined.discard(node.target)
        return stmts

    def _spread(self, atom, expr, holder):
        """Contributions of ``expr``, the adjoint of ``atom``: a name, or a
        literal sequence of atoms (``np.stack([a, b])``, the arguments bound to
        a callee's ``*args``, the gradients of a callee's parameters).  Fresh
        names are bound by unpacking; otherwise the adjoint is held in a
        temporary named after ``holder`` and split up by index."""
        if isinstance(atom, gast.Name):
            return [self.contribute(atom.id, expr)]
        leaves = _leaves(atom)
        ids = {leaf.id for leaf in leaves if isinstance(leaf, gast.Name)}
        if len(ids) == len(leaves) and all(map(self._varied, leaves)) and not ids & self.defined:
            self.defined.update(ids)
            return [gast.Assign(targets=[self._unpack_target(atom)], value=expr, type_comment=None)]
        holder = self.names.fresh(holder)
        return [assign(holder, expr)] + self._distribute(atom, name(holder))

    def _unpack_target(self, atom):
        """``da, (db, dc)`` for the literal ``(a, (b, c))``."""
        if isinstance(atom, gast.Name):
            return store(self.adjoint(atom.id))
        return gast.Tuple(elts=[self._unpack_target(e) for e in atom.elts], ctx=gast.Store())

    def _distribute(self, atom, expr):
        """``expr[i]`` (recursively) to every varied element of a literal sequence."""
        if isinstance(atom, gast.Name):
            return [self.contribute(atom.id, expr)]
        stmts = []
        for i, elt in enumerate(atom.elts):
            if self._varied(elt):
                part = gast.Subscript(value=_copy(expr), slice=gast.Constant(value=i, kind=None),
                                      ctx=gast.Load())
                stmts += self._distribute(elt, part)
        return stmts

    def contribute(self, primal, expr):
        """``dprimal = expr`` for the first contribution, else accumulate."""
        d = self.adjoint(primal)
        if primal in self.defined:
            expr = self._scattered(d, expr) or gast.BinOp(left=name(d), op=gast.Add(), right=expr)
        self.defined.add(primal)
        return assign(d, expr)

    def _scattered(self, d, expr):
        """``add_at(dx, g, x, i)`` for ``dx + scatter_add(g, x, i)``: one entry
        added, not a whole adjoint of zeros (O(1) per read of a list element
        instead of O(len)); None for any other contribution."""
        if not (isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name)
                and len(expr.args) == 3 and not expr.keywords
                and expr.func.id == self.refs.name_of(scatter_add)):
            return None
        index = expr.args[2]
        if isinstance(index, gast.Constant) and isinstance(index.value, str):
            return None                  # a dict's entry: dd + scatter_add(...) adds one entry already
        return call(self.ref(add_at, "add_at"), name(d), *expr.args)

    def _varied(self, atom):
        return any(n in self.graph.varied for n in atom_names(atom))

    def _expression(self, atom):
        return rule_argument(atom, self.ref)


def guard_statements(node, ref):
    """``not_an_array(v)`` before an ``op=`` that is right only on floats
    (``alias.py`` attaches them; ``runtime.NotAnArray``); both generators emit them."""
    return [gast.Expr(value=call(ref(guard, "not_an_array"), name(v)))
            for v, guard in getattr(node, "srcad_guards", ())]


def rule_argument(atom, ref):
    """An atom as an expression a rule template can use: an index with slices
    becomes ``np.s_[...]`` (``ref(obj, name)`` names ``np`` in generated code)."""
    if isinstance(atom, IndexAtom) or _has_slice(atom):
        index = atom.index if isinstance(atom, IndexAtom) else atom
        if not _has_slice(index):
            return _copy(index)
        return gast.Subscript(value=gast.Attribute(value=ref(np, "np"), attr="s_", ctx=gast.Load()),
                              slice=_copy(index), ctx=gast.Load())
    return atom


def _is_name(atom, id_):
    return isinstance(atom, gast.Name) and atom.id == id_


def _leaves(atom):
    """The atoms inside a (nested) literal sequence, in order."""
    if isinstance(atom, (gast.Tuple, gast.List)):
        return [leaf for elt in atom.elts for leaf in _leaves(elt)]
    return [atom]


def _has_code(stmts):
    """True when a reverse block holds a statement (comments and markers aside)."""
    return any(isinstance(s, gast.AST) or isinstance(s, (Save, Restore)) for s in stmts)


def _stored(stmts):
    return stored([s for s in stmts if isinstance(s, gast.AST)])


def _markers(stmts):
    for stmt in stmts:
        if isinstance(stmt, (Save, Restore)):
            yield stmt
        elif isinstance(stmt, gast.AST):
            for field in ("body", "orelse"):
                yield from _markers(getattr(stmt, field, None) or [])


def _reads(stmts):
    return loaded([s for s in stmts if isinstance(s, gast.AST)])


def _first_index(loop):
    """The index of a range loop's first iteration (its reversal's last), or None."""
    it = loop.stmt.iter if loop.kind == "for" else None
    if not (isinstance(it, gast.Call) and isinstance(it.func, gast.Name) and it.func.id == "range"
            and 1 <= len(it.args) <= 3 and not it.keywords and isinstance(loop.target, str)):
        return None
    if len(it.args) == 1:
        return gast.Constant(value=0, kind=None)
    start = it.args[0]
    return _copy(start) if isinstance(start, (gast.Name, gast.Constant)) else None


def _prune(stmts):
    """Drop reverse branches and loops left empty once unneeded restores go."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.If, gast.For)):
            stmt.body = _prune(stmt.body)
            stmt.orelse = _prune(stmt.orelse)
            if not any(isinstance(s, gast.AST) for s in stmt.body + stmt.orelse):
                while out and isinstance(out[-1], Comment) and not out[-1].header:
                    out.pop()                      # its comment goes too
                continue
            if not any(isinstance(s, gast.AST) for s in stmt.body):
                stmt.test = gast.UnaryOp(op=gast.Not(), operand=stmt.test)
                stmt.body, stmt.orelse = stmt.orelse, []
        out.append(stmt)
    return out


def _initial_defs(graph):
    """Nodes that bind a name for the first time, at the top level of the
    function, before any redefinition: nothing is overwritten there."""
    seen = set(graph.params)
    initial = set()

    def walk(items, top):
        for item in items:
            if isinstance(item, Node):
                if item.target is not None and item.target not in seen:
                    if top:
                        initial.add(item)
                    seen.add(item.target)
            elif isinstance(item, Branch):
                walk(item.body, False)
                walk(item.orelse, False)
            elif isinstance(item, Loop):
                walk(item.body, False)

    walk(graph.body, True)
    return initial


def _has_slice(tree):
    return isinstance(tree, gast.AST) and any(isinstance(n, gast.Slice) for n in walk(tree))


def _targets(graph):
    """The names the graph's nodes assign."""
    return {n.target for n in graph.nodes if n.target is not None}


def _identifier(text):
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text) or "f"


def _copy(tree):
    return clone(tree)


def _constant_saved(graph, kept, stacks):
    """The saved values that carry no derivative w.r.t. any parameter of the
    callee (a comparison, a count, a constant): values of its own graph that
    depend on no parameter through differentiable primitives.  (Not merely
    those not varied here: an inactive argument may depend on what a second
    derivative differentiates.)  Differentiating the reverse half again
    (hessian, grad of grad) reads them as constants although they come out of
    the varied ``saved`` tuple, so ``np.where(gt_p, dv, 0.0)`` needs no
    derivative for its condition.  So is the stack of such a value (``stacks``:
    value -> its stack), which holds only constants: ``k = k_stack.pop()`` of a
    dict's key.  The saved values of nested calls are never in this set."""
    values = _targets(graph)
    varied = varied_from(graph, graph.params)
    constant = {v for v in values if v not in varied}
    constant |= {stack for v, stack in stacks.items() if v in constant}
    return frozenset(v for v in kept if v in constant)


def _entry_bases(graph):
    """Names updated by ``x[k] = v`` that look like dicts: their old entries are
    saved with runtime.saved_entry, which also remembers that a key did not
    exist yet.  Everything else (arrays, lists) keeps ``np.copy(x[i])``."""
    bases = {node.target for node in graph.nodes if node.primitive is setitem}
    return {b for b in bases if _dict_like(graph, b)}


def _dict_like(graph, name, seen=None):
    """``name`` is made by a dict literal, is indexed with a key (``x['w']``) or
    read through a dict method, or is a copy of such a value."""
    seen = set() if seen is None else seen
    if name in seen:
        return False
    seen.add(name)
    if _may_be_keyed(graph, name, names_are_keys=False):
        return True
    for node in graph.nodes:
        if node.target != name:
            continue
        if node.keys is not None or (node.primitive is setitem and _is_key(node.args[1].index)):
            return True
        if node.primitive in (identity, np.ndarray.copy) and _is_local(node.args[0]) \
                and _dict_like(graph, node.args[0].id, seen):
            return True
    return False


def _loop_indices(graph):
    """The counters of the graph's for loops (computed once per graph)."""
    found = getattr(graph, "loop_indices", None)
    if found is None:
        found = graph.loop_indices = set()
        todo = list(graph.body)
        while todo:
            item = todo.pop()
            if isinstance(item, Loop):
                found.add(item.target)
                todo.extend(item.body)
            elif isinstance(item, Branch):
                todo.extend(item.body + item.orelse)
    return found


def _may_be_keyed(graph, param, names_are_keys=True):
    """True when ``param`` may be a dict whose adjoint lacks entries: it is
    indexed by a key that is neither an int constant nor (``names_are_keys``)
    a loop index, or read through a dict method, or so is an element read back
    out of a container it was packed into."""
    loop_indices = _loop_indices(graph) if names_are_keys else None
    values, holders, seen = [param], [], set()
    while values or holders:
        holder = bool(holders)
        current = (holders if holder else values).pop()
        if (current, holder) in seen:
            continue
        seen.add((current, holder))
        for node in graph.nodes:
            first = node.args[0] if node.args else None
            if node.kind == "pack" and any(_is_name(a, current) for a in node.args):
                holders.append(node.target)          # param may come back out of it
            elif not _is_name(first, current):
                continue
            elif node.primitive is identity:
                (holders if holder else values).append(node.target)
            elif holder and node.primitive is operator.getitem:
                values.append(node.target)
                holders.append(node.target)
            elif not holder and (node.primitive in DICT_READS
                                 or (node.primitive is operator.getitem
                                     and _is_key(node.args[1].index, loop_indices))):
                return True
    return False


def _is_key(index, loop_indices=None):
    """An index that may be a dict key: a constant other than an int, or (with
    ``loop_indices``) a name that is not a loop index."""
    if isinstance(index, gast.Constant):
        return not isinstance(index.value, int)
    return loop_indices is not None and isinstance(index, gast.Name) and index.id not in loop_indices
