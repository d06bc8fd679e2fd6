"""The graph IR's visitor contract: every stage over the items handles every
kind of item, so adding a kind of item is one method per stage, and this test
names the stages that still lack it."""

import importlib
import inspect
import pkgutil

import pytest

import srcad
from srcad import ir
from srcad.graph import Node
from srcad.ir import Item, Kind, Visitor


def _modules():
    for info in pkgutil.walk_packages(srcad.__path__, "srcad."):
        if info.name != "srcad.__main__":
            try:
                yield importlib.import_module(info.name)
            except ImportError:
                pass


def _visitors():
    found = {}
    for module in _modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Visitor) and cls is not Visitor:
                found[cls.__qualname__] = cls
    return found


TAGS = sorted(cls.tag for cls in vars(ir).values()
              if isinstance(cls, type) and issubclass(cls, Item) and cls.tag is not None)


def test_the_item_kinds():
    assert TAGS == ["branch", "jump", "loop", "node"]


def test_the_stages_exist():
    visitors = _visitors()
    for expected in ("ReverseGenerator", "ForwardGenerator", "_Analysis", "_Text", "_Dot"):
        assert expected in visitors


@pytest.mark.parametrize("name, cls", sorted(_visitors().items()))
def test_every_stage_handles_every_item(name, cls):
    stages = {attr[: -len("_node")] for attr in dir(cls) if attr.endswith("_node")
              and callable(getattr(cls, attr))}
    stages = {s for s in stages if any(hasattr(cls, f"{s}_{t}") for t in TAGS if t != "node")}
    assert stages, f"{name} visits nothing"
    missing = [f"{s}_{t}" for s in sorted(stages) for t in TAGS if not hasattr(cls, f"{s}_{t}")]
    assert not missing, f"{name} lacks {missing}"


def test_an_unhandled_item_is_a_named_error():
    class Partial(Visitor):
        def look_node(self, node):
            return node.label

    node = Node(None, None, "effect", None, [], {}, "print")
    assert Partial().visit("look", node) == "print"
    with pytest.raises(NotImplementedError, match="Partial has no look_jump for a Jump"):
        Partial().visit("look", ir.Jump(None))


def test_walk_is_program_order():
    import gast
    loop = ir.Loop(gast.parse("for i in range(3):\n    pass").body[0], [])
    a, b, c = (Node(None, t, "const", None, [], {}, t) for t in "abc")
    branch = ir.Branch(gast.parse("if t:\n    pass").body[0], [b], [loop])
    loop.body.append(c)
    assert [getattr(i, "target", i.tag) for i in ir.walk([a, branch])] == ["a", "branch", "b", "i", "c"]


def test_refine_only_along_refinements():
    node = Node(None, "s", "call", None, [], {}, "Stack")
    node.refine(Kind.STACK)
    assert node.kind is Kind.STACK and str(node.kind) == "stack"
    with pytest.raises(RuntimeError, match="a stack node cannot become a push"):
        node.refine(Kind.PUSH)
