"""Export a workbook's answers as a static HTML or PDF record: code hidden, answers escaped.

The export is rebuilt from the answers (journal + notebook), so a live workbook whose widgets
were never saved exports completely. Every answer goes through ``record.answer_markdown``
(HTML-escaped); nbconvert also sanitises the HTML and the page forbids scripts (CSP), so a
``<script>`` or ``<img onerror>`` typed into an answer stays text. PDF is printed from that
HTML by headless Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..core.errors import ExportError, InputError

FORMATS = ("html", "pdf")
CSP = ("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; img-src data:; font-src data:\">")
PDF_TIMEOUT = 120
# nbconvert's lab template without the scripts it loads from a CDN (require.js, MathJax,
# mermaid, the widget manager): every page we write is one self-contained file that opens
# offline and makes no network request.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def offline_exporter(**options: Any) -> Any:
    """An nbconvert ``HTMLExporter`` whose pages load nothing from the network.

    Also finds nbconvert's own templates when this runs in a virtual environment made with
    ``--system-site-packages`` (they live under the base interpreter's prefix there)."""
    import sys

    import jinja2
    from nbconvert import HTMLExporter

    bases = [Path(prefix) / "share" / "jupyter" / "nbconvert" / "templates"
             for prefix in dict.fromkeys((sys.prefix, sys.base_prefix))]
    found = [str(b) for b in bases if b.is_dir()]
    return HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"sk-offline.html.j2": OFFLINE_TEMPLATE})],
        template_file="sk-offline.html.j2", extra_template_basedirs=found,
        extra_template_paths=found, **options)


def offline_html(nb: Any, **options: Any) -> str:
    """``nb`` (a notebook node) as one self-contained HTML page."""
    body, _res = offline_exporter(**options).from_notebook_node(nb)
    return body



def export_notebook(path: str | os.PathLike[str], *, redact: bool = False,
                    deny_list: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """A plain notebook (dict) holding the record: header, answers, sign-off and status."""
    import nbformat.v4 as v4

    from ..core.mirror import answer_output
    from ..core.text import escape_md
    from ..core.workbook import open_record
    from ..generate.question import question_output, titles_of
    from ..privacy.scan import load_deny_list, redact_text, redact_value
    from ..signoff import signoff_markdown, verify

    path = Path(path)
    rec = open_record(path)
    nb, info, prompts = rec.nb, rec.info, rec.prompts
    # private prompts (wellbeing, personal impact) stay between worker and supervisor
    answers = {pid: v for pid, v in rec.answers.items()
               if not prompts.get(pid, {}).get("private")}
    names = load_deny_list(deny_list) if redact else []
    if redact:
        answers = {pid: redact_value(v, names=names) for pid, v in answers.items()}
    title = info.get("template_title") or info.get("template") or "Supervision record"
    head = [f"# {escape_md(title)}", ""]
    head.append(" · ".join(f"**{label}** {escape_md(info.get(key) or '—')}" for label, key in (
        ("Case", "case_id"), ("Date", "session_date"), ("Worker", "worker"),
        ("Supervisor", "supervisor"))))
    if redact:
        head += ["", "_Likely identifiers in the answers were replaced before export._"]
    cells = [v4.new_markdown_cell("\n".join(head))]
    sections = nb["metadata"]["supervision_kit"]["prompt_set"].get("sections", [])
    titles = titles_of(prompts)
    for s in sections:
        cells.append(v4.new_markdown_cell(f"## {escape_md(s.get('title', s.get('id', '')))}"))
        if s.get("intro") and any(p.get("competency") for p in s.get("prompts", [])):
            # a section about one competency (placements): its description and the evidence
            # quoted when the workbook was made, escaped then; a redacted export leaves the
            # quotes out rather than trust redaction of already-escaped text
            cells.append(v4.new_markdown_cell(
                "_Evidence quotes are left out of a redacted export._" if redact
                else str(s["intro"])))
        for p in s.get("prompts", []):
            if prompts[p["id"]].get("private"):
                continue
            question = question_output(prompts[p["id"]], titles)["data"]
            out = answer_output(prompts[p["id"]], answers.get(p["id"]))
            out["data"] = {k: out["data"][k] for k in ("text/markdown", "text/plain")}
            cell = v4.new_code_cell("")
            cell.outputs = [  # the question (text only), then the answer
                v4.new_output("display_data", data={k: question[k] for k in
                                                    ("text/markdown", "text/plain")}),
                v4.new_output("display_data", data=out["data"])]
            cells.append(cell)
    rep = verify(path)
    sigs = list(rep.signatures.values())
    addenda = rep.addenda
    if redact:  # addenda are answers too: scanned and redacted like them
        addenda = [dict(a, text=redact_text(str(a.get("text", "")), names=names))
                   for a in addenda]
    status = ["", "### Verification", ""]
    if rep.ok:
        status.append("**Verified:** nothing changed after signing (hash chain intact).")
    else:
        status.append("**Verification FAILED:** the record changed after signing.")
        status += [f"- {escape_md(p)}" for p in rep.problems[:20]]
    cells.append(v4.new_markdown_cell(signoff_markdown(sigs, addenda) + "\n"
                                      + "\n".join(status)))
    out_nb = v4.new_notebook(cells=cells)
    out_nb.metadata["title"] = f"{title} — {info.get('case_id', '')}"
    return out_nb


def to_html(nb: Any) -> str:
    """Static HTML (code hidden, output HTML sanitised, scripts forbidden by CSP)."""
    body = offline_html(nb, exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, exclude_anchor_links=True)
    if "<head>" not in body:
        raise ExportError("nbconvert produced HTML without a <head>")
    return body.replace("<head>", "<head>\n" + CSP, 1)


def _out_path(path: Path, to: str, out: str | os.PathLike[str] | None) -> Path:
    target = Path(out) if out else path.with_name(path.name.removesuffix(".ipynb") + "." + to)
    if target.is_symlink():
        raise InputError(f"{target}: is a symbolic link; refusing to write through it")
    if target.is_dir():
        raise InputError(f"{target}: is a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder")
    return target


def export(path: str | os.PathLike[str], *, to: str = "html", redact: bool = False,
           out: str | os.PathLike[str] | None = None,
           deny_list: str | os.PathLike[str] | None = None) -> Path:
    """Write the record as HTML or PDF (default: beside the workbook); returns the path."""
    from ..core.store import atomic_write

    if to not in FORMATS:
        raise InputError(f"unknown export format {to!r}; use html or pdf")
    path = Path(path)
    target = _out_path(path, to, out)
    page = to_html(export_notebook(path, redact=redact, deny_list=deny_list))
    if to == "html":
        atomic_write(target, page)
    else:
        atomic_write(target, html_to_pdf(page))
    return target


def html_to_pdf(page: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium (the system's ``chromium``)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") \
        or shutil.which("google-chrome")
    if not exe:
        raise ExportError("PDF export needs Chromium: install it (Debian/Ubuntu: "
                          "apt-get install chromium) or export --to html")
    with tempfile.TemporaryDirectory(prefix="sk-export-") as tmp:
        src, pdf = Path(tmp) / "record.html", Path(tmp) / "record.pdf"
        src.write_text(page, encoding="utf-8")
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--no-first-run", "--disable-extensions",
               f"--user-data-dir={Path(tmp) / 'profile'}", "--no-pdf-header-footer",
               f"--print-to-pdf={pdf}", src.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PDF_TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise ExportError(f"Chromium did not finish printing within {PDF_TIMEOUT} s") from None
        data = pdf.read_bytes() if pdf.exists() else b""
        if not data.startswith(b"%PDF"):
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1][:200]
            raise ExportError(f"Chromium did not produce a PDF (exit {proc.returncode}): {last}")
        return data
