"""docs/rules.md is what the rule tables say (srcad.rules.catalog writes it)."""

import pathlib

import pytest

from srcad.rules import catalog

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_docs_rules_md_is_current():
    pytest.importorskip("scipy.integrate")        # the committed file lists SciPy's rules
    for name in ("scipy.special", "scipy.stats", "scipy.linalg", "scipy.signal", "scipy.integrate"):
        __import__(name)
    if catalog.versions() not in DOC.read_text():
        pytest.skip("docs/rules.md was written with other NumPy/SciPy releases")
    assert DOC.read_text() == catalog.markdown(), \
        "docs/rules.md is stale: run python3 -m srcad.rules.catalog > docs/rules.md"


def test_every_listed_function_has_both_rules_or_says_so():
    table = catalog.primitives()
    assert sum(len(rows) for rows in table.values()) > 250
    for space, rows in table.items():
        for name, (reverse, forward) in rows.items():
            assert reverse or forward, f"{space}.{name} is listed without a rule"
