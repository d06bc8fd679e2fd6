"""docs/graphs.md's pictures are what its commands draw today.

Each ``srcad graph ... -o docs/images/NAME.svg`` line of the page's bash block
is run again (into a temporary file), and the committed SVG must hold the same
drawing: the same nodes and edges (Graphviz's ``<title>`` of each) and the
same texts.  Coordinates are left out, so another Graphviz version's layout
does not fail the test; a change to what srcad draws does.  To update the
images, run the commands of docs/graphs.md from the repository root.
"""

import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "graphs.md"
SVG = "{http://www.w3.org/2000/svg}"


def commands():
    """The ``srcad graph`` commands of the page's bash blocks, as argument lists."""
    found = []
    for block in re.findall(r"^```bash\n(.*?)^```", PAGE.read_text(), re.S | re.M):
        for line in block.splitlines():
            if line.startswith("srcad graph ") and "docs/images/" in line:
                found.append(shlex.split(line)[1:])
    return found


def drawing(svg_text):
    """What an SVG draws, without where: the titles of its nodes, edges and
    clusters and the texts it shows, each sorted."""
    root = ET.fromstring(svg_text)
    titles = sorted(t.text or "" for t in root.iter(f"{SVG}title"))
    texts = sorted((t.text or "").strip() for t in root.iter(f"{SVG}text"))
    return titles, texts


def test_the_page_shows_every_image_its_commands_make():
    made = sorted(args[args.index("-o") + 1] for args in commands())
    assert len(made) == 6, made
    shown = sorted("docs/" + m for m in re.findall(r"!\[[^\]]*\]\((images/[^)]+\.svg)\)", PAGE.read_text()))
    assert shown == made
    for path in made:
        assert (ROOT / path).is_file(), path
    screenshot = ROOT / "docs" / "images" / "notebook.png"          # examples/notebook.py --screenshot
    assert "(images/notebook.png)" in PAGE.read_text()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("args", commands(), ids=lambda a: a[a.index("-o") + 1].rsplit("/", 1)[-1])
def test_each_image_is_what_its_command_draws(args, tmp_path):
    out = args.index("-o") + 1
    committed = ROOT / args[out]
    fresh = tmp_path / committed.name
    run = [*args[:out], str(fresh), *args[out + 1:]]
    done = subprocess.run([sys.executable, "-m", "srcad", *run], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    titles, texts = drawing(fresh.read_text())
    assert len(titles) > 5 and texts                # a drawing, not an empty picture
    assert drawing(committed.read_text()) == (titles, texts), \
        f"{committed.relative_to(ROOT)} is out of date: run the commands of docs/graphs.md"
