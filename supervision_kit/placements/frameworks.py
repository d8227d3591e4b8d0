"""Competency frameworks and supervision requirements: data files loaded, checked and listed.

A framework (``templates/frameworks/<name>.yaml``) names competencies with stable ids and an
ordered list of levels; a requirement (``templates/requirements/<name>.yaml``) states an
hours, frequency or placement rule. Both are read through ``core.data.read_data_file`` (size,
depth and alias limits, no duplicate keys), validated against the kit's JSON Schema, and
checked for what a schema cannot say: ids unique in a file, the file name matching ``name``,
frequency phases and reviews in order, caps that fit.

Evidence and ratings refer to competencies as ``framework:id`` (``cswe-epas-2022:c4``). A
renamed fork keeps working: its ``forked_from`` names the framework it was copied from, and a
reference to either name means the same competency (ids are stable across a fork).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.data import read_data_file
from ..core.errors import InputError, KitError, PromptSetError
from ..core.prompts import templates_dir

FRAMEWORKS = "frameworks"
REQUIREMENTS = "requirements"
SCHEMAS = {FRAMEWORKS: "framework.schema.json", REQUIREMENTS: "requirement.schema.json"}
SUFFIXES = (".yaml", ".yml", ".json")
# days per unit, for putting phases and reviews on one time line
DAYS_PER = {"at_day": 1, "at_week": 7, "at_month": 30.44, "until_week": 7, "until_month": 30.44}
SUPERVISION_KINDS = ("individual", "group", "live", "remote")


# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class Level:
    id: str
    label: str
    description: str


@dataclass(frozen=True)
class Competency:
    id: str
    title: str
    description: str
    ref: str = ""
    indicators: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        """"c4 Engage in practice-informed research…" style label: id (or ref) and title."""
        return f"{self.ref or self.id}. {self.title}" if self.ref else self.title


@dataclass(frozen=True)
class Framework:
    name: str
    title: str
    version: str
    levels: tuple[Level, ...]
    competencies: tuple[Competency, ...]
    forked_from: str = ""
    source: str = ""
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str = "") -> Framework:
        """A framework from checked data (a file, or the snapshot a workbook keeps)."""
        return cls(
            name=data["name"], title=data["title"], version=str(data["version"]),
            levels=tuple(Level(lv["id"], lv["label"], lv["description"])
                         for lv in data["levels"]),
            competencies=tuple(Competency(c["id"], c["title"], c["description"],
                                          c.get("ref", ""), tuple(c.get("indicators", [])))
                               for c in data["competencies"]),
            forked_from=data.get("forked_from", ""), source=source, data=data)

    def snapshot(self) -> dict[str, Any]:
        """What a workbook keeps of the framework it was made with (so it never needs the
        templates folder again): the data file's content."""
        return dict(self.data)

    @property
    def names(self) -> tuple[str, ...]:
        """The names a reference may use for this framework: its own, and the one it was
        forked from."""
        return (self.name, self.forked_from) if self.forked_from else (self.name,)

    def competency(self, cid: str) -> Competency:
        for c in self.competencies:
            if c.id == cid:
                return c
        raise InputError(f"framework {self.name!r} has no competency {cid!r}; its ids are "
                         f"{', '.join(c.id for c in self.competencies)}")

    def ids(self) -> list[str]:
        return [c.id for c in self.competencies]

    def qualified(self, cid: str) -> str:
        return f"{self.name}:{cid}"

    def local(self, ref: Any) -> str | None:
        """The competency id a ``framework:id`` reference names in this framework (or its
        original, when this is a fork), else None."""
        if not isinstance(ref, str) or ":" not in ref:
            return None
        fw, cid = ref.split(":", 1)
        return cid if fw in self.names and cid in self.ids() else None

    def resolve(self, value: str) -> str:
        """A competency given as ``id``, ``framework:id`` or ``ref`` -> its id (or InputError)."""
        text = str(value).strip()
        if ":" in text:
            cid = self.local(text)
            if cid is None:
                raise InputError(f"{text!r} is not a competency of framework {self.name!r}")
            return cid
        for c in self.competencies:
            if text in (c.id, c.ref):
                return c.id
        return self.competency(text).id


@dataclass(frozen=True)
class Requirement:
    name: str
    title: str
    version: str
    kind: str
    illustrative: bool
    data: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


# ---------------------------------------------------------------- locating files


def _kit_folder() -> Path:
    """The kit's own templates folder (never a fork's): the schemas are read from here, so a
    fork cannot loosen the rules its data is checked against."""
    package = Path(__file__).resolve().parent.parent
    packaged = package / "templates"
    return packaged if (packaged / "prompts").is_dir() else package.parent / "templates"


def data_folder(what: str, templates: str | os.PathLike[str] | None = None) -> Path:
    """``<templates>/frameworks`` or ``<templates>/requirements``."""
    return templates_dir(str(templates) if templates else None) / what


def _path(what: str, name_or_path: str | os.PathLike[str],
          templates: str | os.PathLike[str] | None) -> Path:
    p = Path(name_or_path)
    if p.suffix in SUFFIXES:
        return p
    name = str(name_or_path)
    folder = data_folder(what, templates)
    for suffix in SUFFIXES:
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    known = ", ".join(names(what, templates)) or "none"
    label = "framework" if what == FRAMEWORKS else "requirement"
    raise InputError(f"unknown {label} {name!r} in {folder}; available: {known}")


def names(what: str, templates: str | os.PathLike[str] | None = None) -> list[str]:
    folder = data_folder(what, templates)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.iterdir()
                  if p.suffix in SUFFIXES and not p.name.endswith(".schema.json"))


def framework_names(templates: str | os.PathLike[str] | None = None) -> list[str]:
    return names(FRAMEWORKS, templates)


def requirement_names(templates: str | os.PathLike[str] | None = None) -> list[str]:
    return names(REQUIREMENTS, templates)


# ---------------------------------------------------------------- checks


def _validator(what: str) -> Any:
    import jsonschema

    schema = json.loads((_kit_folder() / what / SCHEMAS[what]).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _item_name(data: Any, path: list[Any]) -> str:
    """"competency 'c3'", "level 'emerging'", "cap 'group'", "frequency phase 2" … for an
    error path, so a message names the item, not only its position."""
    if len(path) < 2 or not isinstance(path[1], int):
        return ""
    try:
        item = data[path[0]][path[1]]
    except (KeyError, IndexError, TypeError):
        return ""
    label = {"competencies": "competency", "levels": "level", "caps": "cap",
             "frequency": "frequency phase", "reviews": "review"}.get(path[0], str(path[0]))
    key = item.get("id") or item.get("kind") if isinstance(item, dict) else None
    return f"{label} {key!r}" if isinstance(key, str) else f"{label} {path[1] + 1}"


def schema_problems(what: str, data: Any) -> list[str]:
    """Schema errors as "where: message", each naming the item (competency, level, cap …)."""
    out = []
    for err in sorted(_validator(what).iter_errors(data),
                      key=lambda e: [str(x) for x in e.absolute_path]):
        path = list(err.absolute_path)
        item = _item_name(data, path)
        rest = "/".join(map(str, path[2:] if item else path))
        where = ", ".join(x for x in (item, rest) if x) or "(top)"
        out.append(f"{where}: {err.message}")
    return out


def _duplicates(values: Any) -> list[Any]:
    seen, dup = set(), []
    for x in values:
        if x in seen and x not in dup:
            dup.append(x)
        seen.add(x)
    return dup


def framework_problems(data: Any) -> list[str]:
    """Everything wrong with a framework's data (empty when it is valid): schema errors, then
    duplicate competency ids, level ids and refs, and a fork that names itself as its origin."""
    out = schema_problems(FRAMEWORKS, data)
    if out:
        return out
    for what, items in (("competency", data["competencies"]), ("level", data["levels"])):
        out += [f"duplicate {what} id {dup!r}" for dup in _duplicates(x["id"] for x in items)]
    out += [f"duplicate competency ref {dup!r}"
            for dup in _duplicates(c["ref"] for c in data["competencies"] if "ref" in c)]
    if data.get("forked_from") == data["name"]:
        out.append("forked_from names the framework itself; give the name it was copied from")
    return out


def _days(entry: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    for k in keys:
        if k in entry:
            return float(entry[k] * DAYS_PER[k])
    return None


def requirement_problems(data: Any) -> list[str]:
    """Everything wrong with a requirement's data: schema errors, then the ordering and
    consistency rules a schema cannot express."""
    out = schema_problems(REQUIREMENTS, data)
    if out:
        return out
    sup, total = data.get("supervision_hours"), data.get("total_practice_hours")
    if sup is not None and total is not None and sup > total:
        out.append("supervision_hours exceeds total_practice_hours")
    counted = data.get("kinds_counted", [])
    caps = data.get("caps", [])
    out += [f"cap {dup!r}: duplicate cap for this kind"
            for dup in _duplicates(c["kind"] for c in caps)]
    for cap in caps:
        if cap["kind"] not in counted:
            out.append(f"cap {cap['kind']!r}: the kind is not in kinds_counted")
        if cap.get("cap_hours", 0) > (sup or 0):
            out.append(f"cap {cap['kind']!r}: cap_hours exceeds supervision_hours")
    span = None
    if "programme_months" in data:
        span = data["programme_months"] * DAYS_PER["at_month"]
    elif "placement_days" in data:
        span = data["placement_days"]
    phases = data.get("frequency", [])
    ends = [_days(p, ("until_week", "until_month")) for p in phases]
    if None in ends[:-1]:
        out.append("frequency: only the last frequency phase may be open-ended")
    known = [e for e in ends if e is not None]
    if known != sorted(set(known)):
        out.append("frequency: phases are not in increasing order")
    if span is not None and known and max(known) > span + 1:
        out.append("frequency: a frequency phase ends after the programme or placement")
    at = [d for r in data.get("reviews", [])
          if (d := _days(r, ("at_day", "at_week", "at_month"))) is not None]
    if at != sorted(set(at)):
        out.append("reviews: reviews are not in increasing order")
    if span is not None and at and max(at) > span + 1:
        out.append("reviews: a review falls after the programme or placement")
    return out


# ---------------------------------------------------------------- loading


def _read(what: str, path: Path) -> dict[str, Any]:
    label = "framework" if what == FRAMEWORKS else "requirement"
    try:
        data = read_data_file(path, label)
    except KitError as exc:
        raise PromptSetError(str(exc), path=path) from exc
    problems = (framework_problems if what == FRAMEWORKS else requirement_problems)(data)
    if not problems and data.get("name") != path.stem:
        problems = [f"name {data.get('name')!r} does not match the file name {path.name!r}"]
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PromptSetError(f"{path}: {problems[0]}{more}", path=path)
    return data


def load_framework(name_or_path: str | os.PathLike[str],
                   templates: str | os.PathLike[str] | None = None) -> Framework:
    """A framework by name (from ``<templates>/frameworks``) or by file path, validated."""
    path = _path(FRAMEWORKS, name_or_path, templates)
    return Framework.from_data(_read(FRAMEWORKS, path), str(path))


def framework_from_snapshot(data: Any, source: str = "") -> Framework | None:
    """The framework a workbook recorded (``prompt_set.framework``), if it is well formed."""
    if not isinstance(data, dict) or framework_problems(data):
        return None
    return Framework.from_data(data, source)


def load_requirement(name_or_path: str | os.PathLike[str],
                     templates: str | os.PathLike[str] | None = None) -> Requirement:
    """A supervision requirement by name or file path, validated."""
    path = _path(REQUIREMENTS, name_or_path, templates)
    data = _read(REQUIREMENTS, path)
    return Requirement(name=data["name"], title=data["title"], version=str(data["version"]),
                       kind=data["kind"], illustrative=bool(data["illustrative"]), data=data,
                       source=str(path))


def all_frameworks(templates: str | os.PathLike[str] | None = None) -> list[Framework]:
    return [load_framework(n, templates) for n in framework_names(templates)]


def find_framework(ref_name: str, frameworks: list[Framework]) -> Framework | None:
    """The framework a ``framework:`` prefix means: one of that name, else a fork of it."""
    for f in frameworks:
        if f.name == ref_name:
            return f
    return next((f for f in frameworks if f.forked_from == ref_name), None)


# ---------------------------------------------------------------- folder checks


def check_folder(folder: str | os.PathLike[str], what: str | None = None) -> list[str]:
    """Validate every framework or requirement file in ``folder`` (a frameworks or
    requirements folder, or a templates folder holding them). Returns one "ok" line per file;
    raises InputError naming the first bad file and item (and how many more there are)."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"{root}: no such folder")
    kinds = [what] if what else [FRAMEWORKS, REQUIREMENTS]
    targets = []
    for kind in kinds:
        if (root / kind).is_dir():
            targets.append((kind, root / kind))
        elif root.name == kind or what:
            targets.append((kind, root))
    if not targets:
        raise InputError(f"{root}: no {' or '.join(kinds)} folder here")
    ok, problems = [], []
    for kind, sub in targets:
        files = sorted(p for p in sub.iterdir()
                       if p.suffix in SUFFIXES and not p.name.endswith(".schema.json"))
        if not files:
            problems.append(f"{sub}: no {kind} files (*.yaml)")
        for p in files:
            try:
                data = _read(kind, p)
            except KitError as exc:
                problems.append(str(exc))
                continue
            if kind == FRAMEWORKS:
                fork = f", forked from {data['forked_from']}" if data.get("forked_from") else ""
                ok.append(f"ok  {p.stem:<24} v{data['version']:<5} "
                          f"{len(data['competencies']):>2} competencies, "
                          f"{len(data['levels'])} levels{fork}")
            else:
                ok.append(f"ok  {p.stem:<24} v{data['version']:<5} {data['kind']}"
                          + (" (illustrative)" if data["illustrative"] else ""))
    if problems:
        more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise InputError(problems[0] + more)
    return ok


def data_checks(root: Path) -> tuple[list[Framework], list[str], list[str]]:
    """For ``templates check``: (the folder's valid frameworks, "ok" lines, problems) for the
    frameworks and requirements folders of a templates folder (either may be absent)."""
    frameworks, ok, problems = [], [], []
    for kind in (FRAMEWORKS, REQUIREMENTS):
        if not (root / kind).is_dir():
            continue
        try:
            ok += check_folder(root / kind, kind)
        except KitError as exc:
            problems.append(str(exc))
    for name in names(FRAMEWORKS, root):
        with contextlib.suppress(KitError):  # reported above
            frameworks.append(load_framework(name, root))
    return frameworks, ok, problems


def check_competency_refs(prompts: list[dict[str, Any]], frameworks: list[Framework],
                          source: str) -> list[str]:
    """Problems with the ``competencies: [framework:id]`` annotations of a prompt set's prompts:
    every reference must name a framework in the folder (or one a fork there was copied from)
    and one of its competency ids."""
    out = []
    for p in prompts:
        for ref in p.get("competencies", []) or []:
            fw_name, _, cid = str(ref).partition(":")
            fw = find_framework(fw_name, frameworks)
            if fw is None:
                out.append(f"{source}: prompt {p['id']!r}: competency {ref!r} names unknown "
                           f"framework {fw_name!r}")
            elif cid not in fw.ids():
                out.append(f"{source}: prompt {p['id']!r}: framework {fw.name!r} has no "
                           f"competency {cid!r}")
    return out
