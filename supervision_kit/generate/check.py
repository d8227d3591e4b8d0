"""``supervision-kit templates check``: validate a templates folder before anyone uses it."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.errors import InputError, KitError
from ..core.prompts import load_prompt_set, templates_dir

REQUIRED_TAGS = ("header", "parameters", "setup", "prompts")


def check_folder(folder: str | None = None) -> list[str]:
    """One 'ok' line per template (and per framework and requirement file); raise InputError
    naming the first problem (and the count). ``competencies: [framework:id]`` annotations
    must name a framework of the folder (or the one a fork there was copied from) and one of
    its competencies."""
    from ..placements.frameworks import check_competency_refs, data_checks

    root = templates_dir(folder)
    ok, problems = [], []
    yamls = sorted((root / "prompts").glob("*.yaml"))
    if not yamls:
        raise InputError(f"{root}: no prompt sets in {root / 'prompts'}")
    frameworks, data_ok, data_problems = data_checks(root)
    for y in yamls:
        try:
            ps = load_prompt_set(y)
            if ps.name != y.stem:
                raise InputError(f"{y}: name {ps.name!r} does not match the file name")
            _check_notebook(root / f"{y.stem}.ipynb")
            refs = check_competency_refs(ps.prompts(), frameworks, str(y))
            if refs:
                raise InputError(refs[0])
            ok.append(f"ok  {y.stem:<18} v{ps.version:<5} {len(ps.prompts()):>3} prompts")
        except KitError as exc:
            problems.append(str(exc))
    ok += data_ok
    problems += data_problems
    if problems:
        more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more)
    return ok


def _check_notebook(path: Path) -> None:
    if not path.is_file():
        raise InputError(f"{path}: template notebook missing for this prompt set")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        tags = {t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"{path}: not a readable notebook: {exc}") from None
    missing = [t for t in REQUIRED_TAGS if t not in tags]
    if missing:
        raise InputError(f"{path}: no cell tagged {missing[0]!r}")
