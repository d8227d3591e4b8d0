"""User side (in a kernel on the hub): make a session workbook in a pair's shared folder.

The templates repository that nbgitpuller distributes holds a ``START.ipynb`` that calls
``show()``: pick the supervision pair (from ``~/supervision/.pairs.json``, written by the hub),
the case ids, the date and the template, press **Create**, and open the new workbook from the
link. The workbook lives in the pair's folder, never inside the pulled repository, so a
template update can never touch an answer; it names both hub accounts, so on the hub only the
worker can sign as worker and only the supervisor as supervisor.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import urllib.parse
from pathlib import Path
from typing import Any

from .pairs import load_my_pairs


def new_session(pair: dict[str, Any], *, cases: list[str] | None = None,
                date: str | None = None, template: str = "session",
                templates: str | os.PathLike[str] | None = None) -> Path:
    """A new workbook in the pair's folder, naming both people and both hub accounts."""
    from ..generate.render import new_workbook
    from ..signoff.identity import accounts

    return new_workbook(cases=list(cases or []), worker=pair["worker_name"],
                        supervisor=pair["supervisor_name"], date=date, template=template,
                        store=pair["path"], templates=str(templates) if templates else None,
                        accounts=accounts(pair["worker_user"], pair["supervisor_user"]))


def lab_path(path: Path, pair: dict[str, Any], home: Path | None = None) -> str:
    """The workbook's path as JupyterLab sees it: through the ~/supervision/<label> link."""
    inside = Path(path).relative_to(Path(pair["path"]))
    rel = Path("supervision") / pair["label"] / inside
    if home is not None and not (home / "supervision" / pair["label"]).exists():
        rel = Path(path)
    return rel.as_posix()


def lab_url(rel: str) -> str:
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    return f"{prefix.rstrip('/')}/lab/tree/{urllib.parse.quote(rel)}"


def show(templates: str | os.PathLike[str] | None = None,
         template_names: list[str] | None = None) -> None:
    """Display the launcher form (ipywidgets); returns nothing, so a cell ending in
    ``show()`` shows it once."""
    import ipywidgets as W
    from IPython.display import display

    from ..core.errors import KitError

    pairs = load_my_pairs()
    if not pairs:
        display(W.HTML("<p><b>No supervision pair is set up for your account yet.</b> Ask the "
                       "programme administrator to add you to the pairs list.</p>"))
        return
    if templates is None and (Path.cwd() / "templates" / "prompts").is_dir():
        templates = Path.cwd() / "templates"
    names = template_names or _template_names(templates)
    choose = W.Dropdown(options=[(_describe(p), i) for i, p in enumerate(pairs)],
                        description="Supervision", layout=W.Layout(width="480px"),
                        style={"description_width": "110px"})
    cases = W.Text(placeholder="e.g. C-014, C-020 (pseudonymous codes, never names)",
                   description="Case ids", layout=W.Layout(width="480px"),
                   style={"description_width": "110px"})
    when = W.Text(value=dt.date.today().isoformat(), description="Date",
                  layout=W.Layout(width="260px"), style={"description_width": "110px"})
    which = W.Dropdown(options=names, value="session" if "session" in names else names[0],
                       description="Template", layout=W.Layout(width="320px"),
                       style={"description_width": "110px"})
    create = W.Button(description="Create workbook", button_style="primary", icon="plus")
    out = W.HTML()
    create.add_class("sk-launcher-create")
    out.add_class("sk-launcher-result")

    def on_create(_b: Any) -> None:
        pair = pairs[choose.value]
        ids = [c.strip() for c in cases.value.replace(";", ",").split(",") if c.strip()]
        try:
            path = new_session(pair, cases=ids, date=when.value.strip() or None,
                               template=which.value, templates=templates)
        except KitError as exc:
            out.value = f"<span style='color:#b00020'>Problem: {html.escape(str(exc))}</span>"
            return
        rel = lab_path(path, pair, Path.home())
        out.value = (f"<p>Made <code>{html.escape(rel)}</code>. "
                     f"<a class='sk-open-workbook' href='{html.escape(lab_url(rel))}'>"
                     "Open the workbook</a>, then choose <b>Run ▸ Run All Cells</b>.</p>")

    create.on_click(on_create)
    display(W.VBox([choose, cases, W.HBox([when, which]), create, out]))


def _describe(pair: dict[str, Any]) -> str:
    if pair.get("role") == "worker":
        return f"with {pair['supervisor_name']} (your supervisor)"
    return f"with {pair['worker_name']} (you supervise)"


def _template_names(templates: str | os.PathLike[str] | None) -> list[str]:
    from ..generate.render import template_names

    try:
        return list(template_names(str(templates) if templates else None)) or ["session"]
    except Exception:  # noqa: BLE001 - the form still offers the default
        return ["session"]
