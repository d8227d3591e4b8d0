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
