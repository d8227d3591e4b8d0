"""Fictional training vignettes: markdown with front matter naming the prompt sections
(``uses: template:section``) a workshop workbook puts around them."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

from ..core.errors import InputError
from ..core.prompts import templates_dir
from ..core.store import (
    check_id,
)

TEMPLATE = "workshop"


# ---------------------------------------------------------------- vignettes


@dataclasses.dataclass
class Vignette:
    name: str
    title: str
    setting: str
    learning_aims: list[str]
    uses: list[str]
    body: str
    path: Path
    questions: list[dict[str, str]] = dataclasses.field(default_factory=list)
    content_notes: list[str] = dataclasses.field(default_factory=list)
    # facilitator only: {"teaching_points": [...], "uk": [...], "us": [...]}; never shown to
    # participants (it stays in the front matter and goes to the facilitator index)
    facilitator_notes: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    prompt_set: Any = None  # the composed workshop prompt set (set by parse_vignette)

    def markdown(self) -> str:
        """The vignette as shown at the top of each participant's workbook: its text, then
        the learning aims once (from the front matter; an aims section in the text is left
        out so the header does not say it twice)."""
        aims = "\n".join(f"- {a}" for a in self.learning_aims)
        notes = "".join(f"> **Content note:** {n}\n>\n" for n in self.content_notes)
        return (f"---\n\n{notes}\n## Vignette: {self.title}\n\n{_without_aims(self.body).strip()}"
                f"\n\n### Learning aims\n\n{aims}\n\n---")


def _without_aims(body: str) -> str:
    """The vignette text minus a "Learning aims" section (up to the next heading as big)."""
    out, skip_level = [], 0
    for line in body.splitlines():
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            level = len(m.group(1))
            if skip_level and level <= skip_level:
                skip_level = 0
            if not skip_level and m.group(2).strip().lower().rstrip(":") == "learning aims":
                skip_level = level
                continue
        if not skip_level:
            out.append(line)
    return "\n".join(out)


def vignettes_dir(templates: str | None = None) -> Path:
    return templates_dir(templates) / "vignettes"


def list_vignettes(templates: str | None = None) -> list[str]:
    return sorted(p.stem for p in vignettes_dir(templates).glob("*.md"))


def load_vignette(name: str, templates: str | None = None) -> Vignette:
    """A vignette by name (or path to a .md file), validated; InputError names the file."""
    path = Path(name)
    if path.suffix != ".md":
        check_id(name, "vignette name")
        path = vignettes_dir(templates) / f"{name}.md"
        if not path.is_file():
            raise InputError(f"unknown vignette {name!r}; available: "
                             f"{', '.join(list_vignettes(templates)) or 'none'}")
    return parse_vignette(path, templates)


def parse_vignette(path: Path, templates: str | None = None) -> Vignette:
    """Parse YAML front matter + markdown body and check every field."""
    import yaml

    def bad(msg: str) -> InputError:
        return InputError(f"{path}: invalid vignette: {msg}")

    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read vignette: {exc}") from None
    m = re.match(r"---\n(.*?)\n---\n(.*)\Z", text, re.S)
    if not m:
        raise bad("must start with YAML front matter between '---' lines")
    try:
        meta = yaml.safe_load(m.group(1))
    except yaml.YAMLError as exc:
        raise bad(f"front matter is not valid YAML: {' '.join(str(exc).split())}") from None
    if not isinstance(meta, dict):
        raise bad("front matter must be a mapping")
    for key in ("name", "title", "setting"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise bad(f"'{key}' must be non-empty text")
    if meta["name"] != path.stem:
        raise bad(f"name {meta['name']!r} does not match the file name {path.stem!r}")
    if meta.get("fictional") is not True:
        raise bad("'fictional: true' is required (training material must be invented)")
    for key in ("learning_aims", "uses"):
        val = meta.get(key)
        if not isinstance(val, list) or not val or not all(isinstance(v, str) for v in val):
            raise bad(f"'{key}' must be a non-empty list of text")
    for ref in meta["uses"]:
        if not re.fullmatch(r"[A-Za-z0-9_-]+:[A-Za-z0-9_-]+", ref):
            raise bad(f"'uses' entry {ref!r} must look like 'prompt_set:section_id'")
    body = m.group(2).strip()
    if not body:
        raise bad("the vignette text (after the front matter) is empty")
    questions = meta.get("questions") or []
    if not isinstance(questions, list) or not all(
            isinstance(q, dict) and isinstance(q.get("id"), str)
            and re.fullmatch(r"vq_[a-z0-9_]{1,40}", q["id"]) and isinstance(q.get("label"), str)
            and isinstance(q.get("help", ""), str) for q in questions):
        raise bad("'questions' must be a list of {id: vq_..., label, help}")
    notes = meta.get("content_notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise bad("'content_notes' must be a list of text")
    fac = meta.get("facilitator_notes") or {}
    if not isinstance(fac, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in fac.items()):
        raise bad("'facilitator_notes' must map headings to lists of text")
    v = Vignette(name=meta["name"], title=meta["title"].strip(), setting=meta["setting"].strip(),
                 learning_aims=meta["learning_aims"], uses=meta["uses"], body=body, path=path,
                 questions=questions, content_notes=notes, facilitator_notes=fac)
    try:
        v.prompt_set = workshop_prompt_set(v, templates)
    except InputError as exc:
        raise bad(str(exc)) from None
    return v


def participant_view(section: dict[str, Any]) -> dict[str, Any] | None:
    """A section as a workshop participant meets it: supervisor-only prompts left out (and
    conditions on them dropped), and scales in their third-person wording (participants rate
    the worker in the vignette, not themselves)."""
    s = {k: val for k, val in copy.deepcopy(section).items() if k not in ("when", "scope")}
    keep = [p for p in s.get("prompts", []) if p.get("role") != "supervisor"]
    kept = {p["id"] for p in keep}
    for p in keep:
        wording = p.pop("rater_wording", None)
        if wording:
            p["label"] = wording.get("label", p["label"])
            p["anchors"] = wording.get("anchors", p.get("anchors"))
        if p.get("show_if", {}).get("prompt") not in (None, *kept):
            p.pop("show_if")
        if p.get("evidence") not in (None, *kept):
            p.pop("evidence")
        p.pop("required", None)  # a training workbook is never signed
    s["prompts"] = keep
    return s if keep else None


def workshop_prompt_set(v: Vignette, templates: str | None = None) -> Any:
    """The workshop prompt set: warm-up, the vignette's sections (as participants see them),
    one box per question the vignette asks, then the debrief."""
    from ..core.prompts import load_prompt_set, validate_prompt_set

    base = load_prompt_set(TEMPLATE, templates)
    sets: dict[str, Any] = {}
    used = []
    for ref in v.uses:
        set_name, section_id = ref.split(":", 1)
        if set_name not in sets:
            try:
                sets[set_name] = load_prompt_set(set_name, templates)
            except InputError:
                raise InputError(f"'uses' names unknown prompt set {set_name!r}") from None
        found = [s for s in sets[set_name].sections if s["id"] == section_id]
        if not found:
            raise InputError(f"'uses' names unknown section {ref!r}")
        section = participant_view(found[0])
        if section:
            used.append(section)
    by_id = {s["id"]: s for s in base.sections}
    questions = copy.deepcopy(by_id.get("vignette_questions"))
    if questions and v.questions:  # the vignette's own questions replace the generic box
        questions["prompts"] = [{"id": q["id"], "kind": "long_text", "label": q["label"],
                                 "help": q.get("help", ""), "role": "worker"}
                                for q in v.questions]
    first = [s for s in base.sections if s["id"] not in ("vignette_questions", "debrief")]
    last = [s for s in (questions, by_id.get("debrief")) if s]
    data = base.to_dict() | {"sections": [*first, *used, *last]}
    return validate_prompt_set(data, f"workshop + {', '.join(v.uses)}")


