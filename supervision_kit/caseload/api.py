"""``load_caseload``: read the stores (cached) and build the caseload rows."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.store import check_date
from ..progress.measures import SupervisionStandard
from .hours import load_requirement
from .index import read_summaries
from .view import DEFAULT_SORT, build, sort_rows


@dataclass
class Caseload:
    rows: list[dict[str, Any]]
    summaries: list[dict[str, Any]] = field(repr=False)
    skipped: list[dict[str, str]]
    today: dt.date
    standard: SupervisionStandard
    supervisor: str | None = None

    def frame(self) -> Any:
        from .view import frame

        return frame(self.rows)


def parse_requirements(specs: list[str] | None,
                       templates: str | os.PathLike[str] | None = None
                       ) -> dict[str, dict[str, Any]]:
    """``["uk-asye"]`` (everyone) or ``["alice=uk-asye", ...]`` -> {worker or "*": requirement}."""
    out: dict[str, dict[str, Any]] = {}
    for spec in specs or []:
        who, _, name = spec.rpartition("=")
        out[who.strip() or "*"] = load_requirement(name.strip(), templates)
    return out


def load_caseload(stores: Sequence[str | os.PathLike[str]], *, supervisor: str | None = None,
                  today: str | dt.date | None = None,
                  standard: SupervisionStandard | None = None,
                  requirements: list[str] | dict[str, dict[str, Any]] | None = None,
                  sort: str = DEFAULT_SORT, cache: bool = True,
                  cache_dir: str | os.PathLike[str] | None = None) -> Caseload:
    """Every supervisee in ``stores`` (see view.build); ``requirements`` as ``--requirement``
    strings or an already loaded mapping."""
    reqs = requirements if isinstance(requirements, dict) else parse_requirements(requirements)
    day = dt.date.fromisoformat(check_date(str(today))) if today else dt.date.today()
    std = standard or SupervisionStandard()
    summaries, skipped = read_summaries(list(stores), cache=cache, cache_dir=cache_dir)
    rows = build(summaries, supervisor=supervisor, today=day, standard=std, requirements=reqs)
    return Caseload(sort_rows(rows, sort), summaries, skipped, day, std, supervisor)
