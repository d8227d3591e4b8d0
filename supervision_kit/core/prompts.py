"""Prompt sets: template data (YAML) loaded, validated against a schema, and answers checked.

A prompt set is a list of sections, each with prompts that have a stable ``id``, a ``kind``
(see ``KINDS``), a ``label`` and ``help`` text. The same value checks serve the widgets,
``fill`` and the readers, so an answer is valid everywhere or nowhere.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .data import read_data_file
from .errors import InputError, PromptSetError

KINDS = ("long_text", "short_text", "scale", "choice", "multi", "date", "number", "table")
ENV_TEMPLATES = "SUPERVISION_KIT_TEMPLATES"
MAX_TEXT = 100_000  # characters in one answer; a process recording fits many times over


def templates_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Template folder: the argument, else ``$SUPERVISION_KIT_TEMPLATES``, else the packaged one."""
    chosen = override or os.environ.get(ENV_TEMPLATES)
    if chosen:
        path = Path(chosen)
        if not path.is_dir():
            raise InputError(f"templates folder not found: {path}")
        return path
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"  # an installed wheel ships templates/ inside the package
    return packaged if (packaged / "prompts").is_dir() else package.parent / "templates"


@dataclass
class PromptSet:
    name: str
    title: str
    version: str
    sections: list[dict[str, Any]]
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    kind: str = "worksheet"  # what the record is (annotation): session, review, workshop ...
    carries_forward: bool = False
    pulls_evidence: bool = False  # for_each: competency sections quote the worker's evidence
    framework: dict[str, Any] | None = None  # set at generation: the framework it was made with

    def prompts(self) -> list[dict[str, Any]]:
        """All prompts in order, each with its ``section`` id filled in."""
        return [dict(p, section=s["id"]) for s in self.sections for p in s["prompts"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "version": self.version,
            "description": self.description,
            "parameters": self.parameters,
            "kind": self.kind,
            "carries_forward": self.carries_forward,
            **({"pulls_evidence": True} if self.pulls_evidence else {}),
            **({"framework": self.framework} if self.framework else {}),
            "sections": self.sections,
        }


def load_prompt_set(
    name_or_path: str | os.PathLike[str], templates: str | None = None
) -> PromptSet:
    """Load and validate a prompt set by template name or file path (YAML or JSON)."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        path = templates_dir(templates) / "prompts" / f"{name_or_path}.yaml"
    if not path.is_file():
        raise InputError(f"prompt set not found: {path}", path=path)
    try:
        data = read_data_file(path, "prompt set")
    except InputError as exc:
        raise PromptSetError(str(exc), path=path) from exc
    return validate_prompt_set(data, str(path))


def validate_prompt_set(data: Any, source: str = "<prompt set>") -> PromptSet:
    """Check ``data`` against the schema and the rules a schema cannot say; raise on the first."""
    import jsonschema

    schema = json.loads((templates_dir() / "prompts" / "prompt-set.schema.json").read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data),
        key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))),
    )
    if errors:
        err = errors[-1]
        raise PromptSetError(f"{source}: {_where(data, list(err.absolute_path))}{err.message}")
    seen: dict[str, str] = {}
    for section in data["sections"]:
        for prompt in section["prompts"]:
            pid = prompt["id"]
            where = f"{source}: prompt {pid!r}: "
            if pid in seen:
                raise PromptSetError(f"{where}duplicate id (also in section {seen[pid]!r})")
            seen[pid] = section["id"]
            _check_scale(prompt, where)
            for col in prompt.get("columns", []):
                _check_scale(col, f"{where}column {col['id']!r}: ")
                if col["kind"] == "choice" and "options" not in col:
                    raise PromptSetError(f"{where}column {col['id']!r}: choice needs options")
    prompts = {p["id"]: p for sec in data["sections"] for p in sec["prompts"]}
    for prompt in prompts.values():
        _check_annotations(prompt, prompts, f"{source}: prompt {prompt['id']!r}: ")
    for section in data["sections"]:
        for prompt in section["prompts"]:
            if "level_rating" in prompt and section.get("for_each") != "competency":
                raise PromptSetError(f"{source}: prompt {prompt['id']!r}: 'level_rating' belongs "
                                     "in a section with 'for_each: competency'")
    for section in data["sections"]:
        for prompt in section["prompts"]:
            cond = prompt.get("show_if")
            if cond and cond["prompt"] not in seen:
                raise PromptSetError(
                    f"{source}: prompt {prompt['id']!r}: show_if names unknown prompt "
                    f"{cond['prompt']!r}"
                )
    return PromptSet(
        name=data["name"],
        title=data["title"],
        version=str(data["version"]),
        sections=data["sections"],
        description=data.get("description", ""),
        parameters=data.get("parameters", {}),
        source=source,
        kind=data.get("kind", "worksheet"),
        carries_forward=bool(data.get("carries_forward", False)),
        pulls_evidence=bool(data.get("pulls_evidence", False)),
    )


def _check_annotations(p: dict[str, Any], prompts: dict[str, dict[str, Any]], where: str) -> None:
    """What the schema cannot say: annotations fit their prompt's kind and name real columns."""
    kind = p["kind"]
    if "rates" in p and kind != "scale":
        raise PromptSetError(f"{where}'rates' belongs on a scale prompt")
    if "duration" in p and kind != "number":
        raise PromptSetError(f"{where}'duration' belongs on a number prompt")
    if p.get("outcome") in ("score", "session_rating") and kind not in ("number", "scale"):
        raise PromptSetError(f"{where}outcome {p['outcome']!r} belongs on a number or scale")
    if "level_rating" in p and kind != "scale":
        raise PromptSetError(f"{where}'level_rating' belongs on a scale prompt")
    mode = p.get("supervision_mode")
    if mode is not None:
        if kind != "choice":
            raise PromptSetError(f"{where}'supervision_mode' belongs on a choice prompt")
        unmapped = [o for o in p["options"] if o not in mode]
        extra = [o for o in mode if o not in p["options"]]
        if unmapped or extra:
            what = (f"option {unmapped[0]!r} is not mapped" if unmapped
                    else f"maps {extra[0]!r}, which is not an option")
            raise PromptSetError(f"{where}'supervision_mode' {what}")
    if "credential" in p and kind not in ("short_text", "long_text"):
        raise PromptSetError(f"{where}'credential' belongs on a text prompt")
    for key in ("credential_since", "period"):
        if key in p and kind != "date":
            raise PromptSetError(f"{where}{key!r} belongs on a date prompt")
    if "evidence" in p and p["evidence"] not in prompts:
        raise PromptSetError(f"{where}'evidence' names unknown prompt {p['evidence']!r}")
    carry = p.get("carry")
    if carry:
        if kind != "table":
            raise PromptSetError(f"{where}'carry' belongs on a table prompt")
        cols = {c["id"] for c in p["columns"]}
        named = [carry["text"], *carry.get("context", []), *carry.get("levels", [])]
        named += [carry[k] for k in ("score", "weight", "baseline") if k in carry]
        for col in named:
            if col not in cols:
                raise PromptSetError(f"{where}'carry' names unknown column {col!r}")


def _check_scale(item: dict[str, Any], where: str) -> None:
    if item["kind"] != "scale" or "level_rating" in item:  # a level rating's bounds: the framework
        return
    lo, hi = item.get("min"), item.get("max")
    if lo is None or hi is None or lo >= hi:
        raise PromptSetError(f"{where}scale needs integer min < max")
    anchors = {int(k) for k in item.get("anchors", {})}
    if not {lo, hi} <= anchors or not all(lo <= a <= hi for a in anchors):
        raise PromptSetError(f"{where}scale anchors must include {lo} and {hi} and stay in range")


def _where(data: Any, path: list[Any]) -> str:
    """Name the section or prompt an error path points into."""
    try:
        if len(path) >= 4 and path[0] == "sections" and path[2] == "prompts":
            pid = data["sections"][path[1]]["prompts"][path[3]].get("id", f"#{path[3] + 1}")
            return f"prompt {pid!r}: "
        if len(path) >= 2 and path[0] == "sections":
            return f"section {data['sections'][path[1]].get('id', path[1])!r}: "
    except (KeyError, IndexError, TypeError, AttributeError):
        pass
    return f"{'/'.join(map(str, path))}: " if path else ""


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# ---------------------------------------------------------------- answers


def check_value(prompt: dict[str, Any], value: Any) -> Any:
    """Return ``value`` normalised for ``prompt``'s kind, or raise InputError naming the prompt.

    ``None`` (no answer yet) is valid for every kind.
    """
    try:
        return _check(prompt, value)
    except InputError as exc:
        raise InputError(f"prompt {prompt['id']!r} ({prompt['kind']}): {exc}",
                         prompt_id=prompt["id"]) from exc


def _check(item: dict[str, Any], value: Any) -> Any:
    kind = item["kind"]
    if value is None:
        return None
    if kind in ("long_text", "short_text"):
        return _text(value)
    if kind == "scale":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"expected a whole number, got {value!r:.40}")
        if not item["min"] <= value <= item["max"]:
            raise InputError(f"{value} is outside {item['min']}..{item['max']}")
        return value
    if kind == "choice":
        if value not in item["options"]:
            raise InputError(f"{value!r:.60} is not one of the options")
        return value
    if kind == "multi":
        if not isinstance(value, list) or len(set(map(str, value))) != len(value):
            raise InputError("expected a list of distinct options")
        bad = [v for v in value if v not in item["options"]]
        if bad:
            raise InputError(f"{bad[0]!r:.60} is not one of the options")
        return [o for o in item["options"] if o in value]  # canonical order
    if kind == "date":
        if value == "":
            return None
        if not isinstance(value, str):
            raise InputError("expected a date YYYY-MM-DD")
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise InputError(f"{value!r:.40} is not a date YYYY-MM-DD") from None
    if kind == "number":
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or not math.isfinite(value):
            raise InputError(f"expected a number, got {value!r:.40}")
        return value
    if kind == "table":
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise InputError("expected a list of rows (objects)")
        columns = {c["id"]: c for c in item["columns"]}
        rows = []
        for n, row in enumerate(value, 1):
            unknown = set(row) - set(columns)
            if unknown:
                raise InputError(f"row {n}: unknown column {sorted(unknown)[0]!r}")
            try:
                rows.append({cid: _cell(col, row.get(cid)) for cid, col in columns.items()})
            except InputError as exc:
                raise InputError(f"row {n}: {exc}") from None
        return rows
    raise InputError(f"unknown kind {kind!r}")


def _cell(column: dict[str, Any], value: Any) -> Any:
    if value == "" and column["kind"] not in ("short_text", "long_text"):
        return None
    try:
        return _check(column, value)
    except InputError as exc:
        raise InputError(f"column {column['id']!r}: {exc}") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}")
    if "\x00" in value:
        raise InputError("text contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("text is not valid Unicode (a lone surrogate)") from None
    if len(value) > MAX_TEXT:
        raise InputError(f"text is {len(value):,} characters; the limit is {MAX_TEXT:,}")
    return value.replace("\r\n", "\n")


def is_answered(value: Any) -> bool:
    return value not in (None, "", [], {})


def shown(prompt: dict[str, Any], answers: dict[str, Any]) -> bool:
    """Whether a conditional prompt applies: no ``show_if``, or the prompt it names has (one
    of) the listed answers. The kernel shows it and ``sign`` requires it by this one rule."""
    cond = prompt.get("show_if")
    if not cond:
        return True
    value = answers.get(cond.get("prompt"))
    values = value if isinstance(value, list) else [value]
    return any(v in cond.get("in", []) for v in values)
