"""Calls of the user's own functions: the callee split into a forward
half that saves what its reverse half reads, called in the two sweeps."""

import gast

from srcad.passes.dead_code import live_in
from srcad.errors import SrcadError
from srcad.graph import varied_from
from srcad.builders import assign, call, name, store
from srcad.reverse.support import Save, _copy, _identifier, _stored, _targets


class Splits:
    """The :class:`~srcad.reverse.core.ReverseGenerator`'s calls of user functions: split pairs."""

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
