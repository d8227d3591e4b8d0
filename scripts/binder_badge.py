"""Rewrite the README's Binder badge from the one setting, [tool.supervision-kit] binder_repo.

    python scripts/binder_badge.py            # after changing binder_repo / binder_ref

The badge line is the one that starts with "[![Launch the workshop on Binder]".
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from supervision_kit.workshop.binder import badge_markdown, binder_repo  # noqa: E402

PREFIX = "[![Launch the workshop on Binder]"

if __name__ == "__main__":
    readme = ROOT / "README.md"
    badge = badge_markdown(binder_repo(ROOT, environ={}))
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, ln in enumerate(lines) if ln.startswith(PREFIX)]
    if len(hits) != 1:
        sys.exit(f"README.md: expected one line starting with {PREFIX!r}, found {len(hits)}")
    lines[hits[0]] = badge + "\n"
    readme.write_text("".join(lines), encoding="utf-8")
    print(badge)
