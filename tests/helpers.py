"""Helpers shared by tests (import as tests.helpers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_TEMPLATES = Path(__file__).resolve().parent / "fixtures" / "templates"


def run_cli(*args, cwd=None, input=None, env=None):
    """Run the real console entry point in a subprocess: (exit code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-m", "supervision_kit", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, input=input, timeout=120,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, proc.stdout, proc.stderr


def load_json(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def source(cell):
    """A cell's source as one string (saved notebooks may hold a list of lines)."""
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def external_refs(page):
    """Everything an HTML page would fetch from elsewhere: src/href of elements that load
    something, and url(...) in styles; data: URIs and in-page #anchors excluded."""
    import re
    from html.parser import HTMLParser

    found = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if not value:
                    continue
                loads = (name == "src" or (name == "href" and tag == "link")
                         or (name == "data" and tag == "object"))
                if loads and not value.startswith(("data:", "#")):
                    found.append(f"<{tag} {name}={value}>")

    Refs().feed(page)
    found += [u for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", page)
              if not u.startswith(("data:", "#"))]
    found += re.findall(r"@import\s+['\"]?([^'\";]+)", page)
    return found


def cell_prompts(cell):
    """The prompt ids an answer cell shows (a section's ``prompts``, or an older cell's one
    ``prompt``); [] for any other cell."""
    own = cell.get("metadata", {}).get("supervision_kit", {})
    if isinstance(own.get("prompts"), list):
        return list(own["prompts"])
    return [own["prompt"]] if isinstance(own.get("prompt"), str) else []


def answer_cell(nb, pid=None):
    """The answer cell that shows prompt ``pid`` (any answer cell when None)."""
    cells = nb["cells"] if isinstance(nb, dict) else nb.cells
    return next(c for c in cells if cell_prompts(c) and (pid is None or pid in cell_prompts(c)))


def set_mirror(nb, pid, output):
    """Put ``output`` in place of ``pid``'s answer mirror in its cell (others stay)."""
    from supervision_kit.core.workbook import ANSWER_MIME

    cell = answer_cell(nb, pid)
    outs = cell.get("outputs", [])
    at = next((i for i, o in enumerate(outs)
               if o.get("data", {}).get(ANSWER_MIME, {}).get("id") == pid), None)
    if at is None:
        outs.append(output)
    else:
        outs[at] = output
    cell["outputs"] = outs


def mirror_of(nb, pid):
    """``pid``'s answer mirror output in its cell."""
    from supervision_kit.core.workbook import ANSWER_MIME

    return next(o for o in answer_cell(nb, pid)["outputs"]
                if o.get("data", {}).get(ANSWER_MIME, {}).get("id") == pid)
