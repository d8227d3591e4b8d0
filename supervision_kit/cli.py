"""The ``supervision-kit`` command: a thin layer over the Python API.

Every error is one line on stderr: exit 2 for bad usage or input, 1 for other failures.
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .core.errors import InputError, KitError
from .core.text import csv_cell, terminal_safe

PROG = "supervision-kit"
STORE_HELP = "store folder (default: $SUPERVISION_KIT_STORE or ./workbooks)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        raise InputError(f"{message} (see '{self.prog} --help')")


def _out(text: str, *, data: bool = False) -> None:
    """Print one message. Text from answers never reaches a terminal raw: control, escape and
    direction characters are shown as \\uXXXX (data written to a file or pipe is left exact)."""
    if not data or sys.stdout.isatty():
        text = terminal_safe(text, allow_newline=True)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _csv(columns: list[str], rows: Iterable[Iterable[Any]], protect: bool) -> None:
    """CSV on stdout; a cell that a spreadsheet would read as a formula starts with ' unless
    ``protect`` is off (--raw-csv)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for row in rows:
        w.writerow([csv_cell("" if v is None else v if isinstance(v, str | int | float)
                             and not isinstance(v, bool)
                             else json.dumps(v, ensure_ascii=False, default=str),
                             neutralise=protect) for v in row])
    _out(buf.getvalue(), data=True)


def _read_json_file(path: str) -> Any:
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


# ---------------------------------------------------------------- commands


def cmd_new(a: argparse.Namespace) -> None:
    from .generate.render import new_workbook
    from .signoff.identity import accounts

    bad = [p for p in a.param or [] if "=" not in p]
    if bad:
        raise InputError(f"--param {bad[0]!r}: use KEY=VALUE")
    params = dict(p.split("=", 1) for p in a.param) if a.param else {}
    path = new_workbook(cases=a.case or [], worker=a.worker, supervisor=a.supervisor, date=a.date,
                        focus=a.focus or "", template=a.template, store=a.store,
                        templates=a.templates, params=params,
                        accounts=accounts(a.worker_user, a.supervisor_user))
    _out(str(path))


def cmd_prompts(a: argparse.Namespace) -> None:
    from .core.workbook import list_prompts

    rows = list_prompts(a.workbook)
    if a.format == "json":
        _out(json.dumps(rows, indent=1, ensure_ascii=False))
    else:
        for r in rows:
            _out(f"{r['id']:<28} {r['kind']:<11} {r['section']:<20} {r['role']}")


def cmd_fill(a: argparse.Namespace) -> None:
    from .record.fill import fill

    events = fill(a.workbook, _read_json_file(a.responses), role=a.role)
    _out(f"saved {len(events)} answer(s) to {Path(a.workbook).name}")


def cmd_responses(a: argparse.Namespace) -> None:
    from .core.workbook import read_answers

    rec = read_answers(a.workbook)
    if a.format == "json":
        _out(json.dumps(rec, indent=1, ensure_ascii=False), data=True)
        return
    _csv(["prompt_id", "value"], rec["answers"].items(), not a.raw_csv)


def cmd_not_discussed(a: argparse.Namespace) -> None:
    from .record import mark_not_discussed

    mark_not_discussed(a.workbook, a.prompt, a.reason, role=a.role)
    _out(f"{a.prompt}: marked not discussed this time ({a.reason})")


def cmd_finalize(a: argparse.Namespace) -> None:
    from .record.finalize import finalize

    res = finalize(a.workbook, force=a.force)
    _out(f"finalized {res['path']} ({res['answers']} answers)")


def cmd_demo(a: argparse.Namespace) -> None:
    from .launch.demo import run_demo

    run_demo(store=a.store, lab=not a.no_lab, browser=not a.no_browser, port=a.port,
             reset=a.reset)


def cmd_open(a: argparse.Namespace) -> None:
    from .launch.lab import run_lab

    run_lab(a.workbook, root=a.root, port=a.port, browser=not a.no_browser)


def cmd_app(a: argparse.Namespace) -> None:
    from .launch.app import run_app

    code = run_app(a.workbook, port=a.port, browser=not a.no_browser, cull_idle=a.cull_idle)
    if code:
        raise KitError(f"Voila stopped with exit code {code}")


def cmd_templates_check(a: argparse.Namespace) -> None:
    from .generate.check import check_folder

    for line in check_folder(a.folder):
        _out(line)


def cmd_templates_list(a: argparse.Namespace) -> None:
    from .core.prompts import load_prompt_set
    from .generate.render import template_names

    for name in template_names(a.templates):
        ps = load_prompt_set(name, a.templates)
        _out(f"{name:<18} v{ps.version:<5} {ps.title}")


def cmd_table(a: argparse.Namespace) -> None:
    from .table.index import load_store, to_records

    if a.format == "parquet" and not a.out:
        raise InputError("table --format parquet needs --out FILE.parquet")
    df = load_store(a.store, case=a.case, private=a.private)
    for s in df.attrs.get("skipped", []):
        sys.stderr.write(f"{PROG}: warning: skipped {s['error']}\n")
    if a.format == "parquet":
        from .table.warehouse import write_parquet

        res = write_parquet(df, a.out)
        _out(f"wrote {res['rows']} row(s) from {res['workbooks']} workbook(s) to {res['path']}")
        return
    rows = to_records(df.drop(columns=["context"]))
    if a.format == "json":
        _out(json.dumps(rows, indent=1, ensure_ascii=False, default=str), data=True)
        return
    _csv([c for c in df.columns if c != "context"], (r.values() for r in rows), not a.raw_csv)


def cmd_progress(a: argparse.Namespace) -> None:
    from .progress.report import make_progress

    res = make_progress(a.case, store=a.store, out=a.out, html=a.html)
    for key in ("notebook", "html"):
        if res.get(key):
            _out(str(res[key]))


def cmd_sign(a: argparse.Namespace) -> None:
    from .signoff import sign

    res = sign(a.workbook, a.role, a.name, key=a.key)
    _out(f"signed {Path(a.workbook).name} as {a.role} ({res['name']}) at {res['t']}")
    _out("locked: signed by worker and supervisor" if res["locked"] else f"not locked yet: "
         f"{res['waiting']}")


def cmd_verify(a: argparse.Namespace) -> None:
    from .core.errors import VerificationFailed
    from .signoff import verify

    rep = verify(a.workbook, allowed_signers=a.allowed_signers)
    for line in rep.lines():
        _out(line)
    if not rep.ok:
        raise VerificationFailed(f"{Path(a.workbook).name} was changed after signing: "
                                 f"{rep.problems[0]}")


def cmd_addendum(a: argparse.Namespace) -> None:
    from .signoff import add_addendum

    text = sys.stdin.read() if a.text == "-" else a.text
    ev = add_addendum(a.workbook, a.role, text, name=a.name or "")
    _out(f"addendum by the {a.role} added to {Path(a.workbook).name} at {ev['t']}")


def cmd_history(a: argparse.Namespace) -> None:
    from .signoff import history

    for r in history(a.workbook):
        f = {k: terminal_safe(v if v is not None else "-") for k, v in r.items()}
        when = f["t"][:19].replace("T", " ")
        _out(f"{f['seq']:>4}  {when}  {f['role']:<10} {f['type']:<8} {f['id']:<20} "
             f"{f['summary']}")


def cmd_scan(a: argparse.Namespace) -> None:
    from .core.errors import FindingsFound
    from .privacy.scan import scan

    detectors = a.only.split(",") if a.only else None
    res = scan(a.target, detectors=detectors, skip=a.skip.split(",") if a.skip else None,
               deny_list=a.deny_list)
    for s in res.skipped:
        sys.stderr.write(f"{PROG}: warning: skipped {s}\n")
    for f in res.findings:
        _out(f.line())
    _out(f"scanned {res.files} workbook(s): {len(res.findings)} possible identifier(s)")
    if res.findings:
        raise FindingsFound(f"{len(res.findings)} possible identifier(s) found; replace them "
                            "with pseudonyms or remove them")


def cmd_export(a: argparse.Namespace) -> None:
    from .export.html import export

    _out(str(export(a.workbook, to=a.to, redact=a.redact, out=a.out, deny_list=a.deny_list)))


def cmd_workshop(a: argparse.Namespace) -> None:
    from . import workshop as ws

    if a.action == "generate":
        if (a.participants is None) == (a.codes is None):
            raise InputError("workshop generate: give either --participants N or --codes FILE")
        res = ws.generate(a.vignette, a.out, participants=a.participants, codes_file=a.codes,
                          date=a.date, templates=a.templates, public=a.public)
        _out(f"generated {len(res['workbooks'])} workbooks in {res['out']} "
             f"({res['seconds']:.2f} s)\nfacilitator index: {res['index']}\n"
             f"participant start page: {res['start']}")
    elif a.action == "collect":
        rec = ws.collect_records(a.folder)
        for s in rec["skipped"]:
            sys.stderr.write(f"{PROG}: warning: skipped {s}\n")
        cols = ["participant", "vignette", "prompt_id", "section", "kind", "label", "value", "t",
                "source", "file"]
        if a.format == "json":
            _out(json.dumps(rec["rows"], indent=1, ensure_ascii=False), data=True)
            return
        _csv(cols, ([r[c] for c in cols] for r in rec["rows"]), not a.raw_csv)
    else:
        res = ws.summary(a.folder, show_codes=a.show_codes, html=a.html, out=a.out)
        for s in res["skipped"]:
            sys.stderr.write(f"{PROG}: warning: skipped {s}\n")
        for key in ("notebook", "html"):
            if res.get(key):
                _out(str(res[key]))


# ---------------------------------------------------------------- placements (issue 15)
# Frameworks and requirements, evidence, the hours log and the review workflow. One block of
# commands here, registered by ``_placement_parsers`` below; the work is in
# supervision_kit/placements/ (docs/placements.md).


def cmd_frameworks(a: argparse.Namespace) -> None:
    from .placements.frameworks import (
        FRAMEWORKS,
        REQUIREMENTS,
        check_folder,
        framework_names,
        load_framework,
        load_requirement,
        requirement_names,
    )

    what = FRAMEWORKS if a.command == "frameworks" else REQUIREMENTS
    if getattr(a, "folder", None):
        for line in check_folder(a.folder, what):
            _out(line)
        return
    if what == FRAMEWORKS:
        for name in framework_names(a.templates):
            fw = load_framework(name, a.templates)
            fork = f" (fork of {fw.forked_from})" if fw.forked_from else ""
            _out(f"{name:<22} v{fw.version:<5} {len(fw.competencies):>2} competencies "
                 f"{len(fw.levels)} levels  {fw.title}{fork}")
    else:
        for name in requirement_names(a.templates):
            rq = load_requirement(name, a.templates)
            flag = " (illustrative)" if rq.illustrative else ""
            _out(f"{name:<22} v{rq.version:<5} {rq.kind:<10} {rq.title}{flag}")


def _write_out(path: str, data: str | bytes) -> Path:
    """Write a report file (HTML, PDF), never through a symlink, and return its path."""
    from .core.store import atomic_write

    target = Path(path)
    if target.is_symlink() or target.is_dir():
        raise InputError(f"{target}: is a symbolic link or a folder; give a file name")
    if not target.parent.is_dir():
        raise InputError(f"{target.parent}: no such folder")
    atomic_write(target, data)
    return target


def cmd_hours(a: argparse.Namespace) -> None:
    from .placements.frameworks import load_requirement
    from .placements.hours import hours_log
    from .placements.report import HOURS_COLUMNS, hours_html, hours_lines, hours_rows

    req = load_requirement(a.requirement, a.templates) if a.requirement else None
    log = hours_log(a.store, a.worker, req, until=a.until)
    if a.pdf or a.html:
        page = hours_html(log)
        if a.html:
            _out(f"wrote {_write_out(a.html, page)}")
        if a.pdf:
            from .export.html import html_to_pdf

            _out(f"wrote {_write_out(a.pdf, html_to_pdf(page))}")
        return
    if a.format == "json":
        _out(json.dumps(log.to_dict(), indent=1, ensure_ascii=False), data=True)
    elif a.format == "csv":
        _csv(HOURS_COLUMNS, hours_rows(log), not a.raw_csv)
    else:
        _out("\n".join(hours_lines(log)))


def _evidence(a: argparse.Namespace) -> tuple[Any, list[Any]]:
    from .placements.agreements import worker_framework
    from .placements.evidence import collect
    from .placements.frameworks import load_framework

    fw = (load_framework(a.framework, a.templates) if a.framework
          else worker_framework(a.store, a.worker, a.until))
    if fw is None:
        raise InputError(f"no learning agreement for {a.worker!r} in the store: give "
                         "--framework NAME")
    return fw, collect(a.store, a.worker, fw, since=a.since, until=a.until)


def cmd_evidence(a: argparse.Namespace) -> None:
    from .placements.evidence import evidence_map, gaps, summary
    from .placements.report import evidence_html, evidence_lines

    fw, items = _evidence(a)
    if a.html:
        page = evidence_html(a.worker, fw, items, evidence_map(items, fw), until=a.until or "")
        _out(f"wrote {_write_out(a.html, page)}")
        return
    if a.format == "json":
        _out(json.dumps({"worker": a.worker, "framework": fw.name, "version": fw.version,
                         "competencies": summary(items, fw), "gaps": gaps(items, fw),
                         "evidence": [e.to_dict() for e in items]},
                        indent=1, ensure_ascii=False), data=True)
    elif a.format == "csv":
        cols = ["competency", "date", "source", "label", "row", "how", "by", "quote", "path"]
        _csv(cols, ([e.to_dict()[c] for c in cols] for e in items), not a.raw_csv)
    else:
        _out("\n".join(evidence_lines(a.worker, fw, items, a.until or "")))


def cmd_submit(a: argparse.Namespace) -> None:
    from .placements.review import submit

    ev = submit(a.workbook, name=a.name, text=a.note)
    _out(f"submitted {Path(a.workbook).name} for review at {ev['t']}")


def cmd_return(a: argparse.Namespace) -> None:
    from .placements.review import return_for_revision

    ev = return_for_revision(a.workbook, sys.stdin.read() if a.note == "-" else a.note,
                             name=a.name)
    _out(f"returned {Path(a.workbook).name} for revision at {ev['t']}")


def cmd_comment(a: argparse.Namespace) -> None:
    from .placements.review import comment

    ev = comment(a.workbook, a.prompt, sys.stdin.read() if a.text == "-" else a.text,
                 role=a.role, row=a.row, name=a.name)
    _out(f"comment by the {a.role} on {a.prompt} added at {ev['t']}")


def cmd_tag(a: argparse.Namespace) -> None:
    from .placements.review import tag

    if not a.competency and not a.clear:
        raise InputError("give --competency (repeat for several), or --clear to remove a tag")
    ev = tag(a.workbook, a.prompt, [] if a.clear else a.competency, role=a.role, row=a.row,
             text=a.note, name=a.name, framework=a.framework, templates=a.templates)
    what = ", ".join(ev["competencies"]) or "nothing (tag removed)"
    _out(f"tagged {a.prompt}" + (f" row {a.row}" if a.row else "") + f" as evidence for {what}")


def cmd_countersign(a: argparse.Namespace) -> None:
    from .placements.review import countersign

    ev = countersign(a.workbook, a.name, a.text or "")
    _out(f"countersigned {Path(a.workbook).name} as tutor ({ev['name']}) at {ev['t']}")


def cmd_review(a: argparse.Namespace) -> None:
    from .core.workbook import open_record

    rec = open_record(a.workbook)
    st = rec.review
    if a.format == "json":
        _out(json.dumps({"state": st.state, "describe": st.describe(),
                         "changed_since_submit": st.changed_since_submit,
                         "submissions": st.submissions, "returns": st.returns,
                         "comments": st.comments, "tags": list(st.tags.values()),
                         "countersignatures": st.countersignatures},
                        indent=1, ensure_ascii=False), data=True)
        return
    _out(f"review: {st.describe()}")
    for ev in sorted(st.submissions + st.returns + st.comments + st.countersignatures,
                     key=lambda e: int(e.get("seq", 0)) if isinstance(e.get("seq"), int) else 0):
        where = f" on {ev.get('id')}" + (f" row {ev['row']}" if ev.get("row") else "") \
            if ev.get("id") else ""
        text = " ".join(str(ev.get("text") or "").split())
        _out(f"{str(ev.get('t', ''))[:16].replace('T', ' ')}  {ev.get('role', '-'):<10} "
             f"{ev.get('kind') or ev.get('type')}{where}: {text}")
    for (pid, row), ev in st.tags.items():
        _out(f"evidence: {pid}" + (f" row {row}" if row else "") + " -> "
             + ", ".join(map(str, ev.get("competencies") or [])))


def _placement_parsers(add: Callable[..., _Parser]) -> None:
    """The placement commands' parser entries (see the block of cmd_* functions above)."""
    for name, what in (("frameworks", "competency frameworks"),
                       ("requirements", "supervision requirements (hours, frequency)")):
        sp = add(name, cmd_frameworks, f"list {what}, or check a folder of them")
        sp.add_argument("--templates", help="templates folder (default: the packaged one)")
        sub = sp.add_subparsers(dest=f"{name}_command", metavar="ACTION", parser_class=_Parser)
        ck = sub.add_parser("check", help=f"validate a folder of {what} (e.g. your fork)")
        ck.add_argument("folder", help=f"a {name} folder, or a templates folder holding one")
        ck.set_defaults(func=cmd_frameworks)

    sp = add("hours", cmd_hours, "supervised-hours log of a worker, checked against a "
             "requirement (caps applied)")
    sp.add_argument("--worker", required=True, help="the worker's name as in the records")
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--requirement", metavar="NAME", help="e.g. us-example-state-lcsw "
                    "(supervision-kit requirements lists them)")
    sp.add_argument("--templates", help="templates folder holding your requirements")
    sp.add_argument("--until", metavar="YYYY-MM-DD", help="end of the frequency check "
                    "(default: today, or the placement's end)")
    sp.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sp.add_argument("--pdf", metavar="OUT", help="write the log with a signature page as PDF")
    sp.add_argument("--html", metavar="OUT", help="write the log as a self-contained HTML page")
    sp.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")

    sp = add("evidence", cmd_evidence, "evidence map of a worker: competency x evidence over "
             "time, and the gaps")
    sp.add_argument("--worker", required=True, help="the worker's name as in the records")
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--framework", metavar="NAME",
                    help="default: the one chosen in the worker's learning agreement")
    sp.add_argument("--templates", help="templates folder holding your frameworks")
    sp.add_argument("--since", metavar="YYYY-MM-DD", help="only records from this date")
    sp.add_argument("--until", metavar="YYYY-MM-DD", help="only records up to this date")
    sp.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sp.add_argument("--html", metavar="OUT", help="write a self-contained HTML page (chart, "
                    "table, gaps, quotes)")
    sp.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")

    def workbook(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("workbook", help="path to a workbook (.ipynb)")
        sp.add_argument("--name", help="your name or initials (default: as in the record)")

    sp = add("submit", cmd_submit, "hand a record in for review (the student)")
    workbook(sp)
    sp.add_argument("--note", help="a note for the practice educator")
    sp = add("return", cmd_return, "return a submitted record for revision (the practice "
             "educator)")
    workbook(sp)
    sp.add_argument("--note", required=True, help="what to revise (- reads stdin)")
    sp = add("comment", cmd_comment, "comment on one answer (or one table row) of a record")
    workbook(sp)
    sp.add_argument("--prompt", required=True, metavar="ID", help="prompt id (see 'prompts')")
    sp.add_argument("--row", type=int, metavar="N", help="table row, counted from 1")
    sp.add_argument("--role", choices=["worker", "supervisor", "tutor"], default="supervisor")
    sp.add_argument("--text", required=True, help="the comment (- reads stdin)")
    sp = add("tag", cmd_tag, "tag an answer (or a table row) as evidence for competencies; "
             "allowed after sign-off")
    workbook(sp)
    sp.add_argument("--prompt", required=True, metavar="ID", help="prompt id (see 'prompts')")
    sp.add_argument("--competency", action="append", metavar="ID",
                    help="competency id, ref or framework:id; repeat for several")
    sp.add_argument("--clear", action="store_true", help="remove this answer's tags")
    sp.add_argument("--row", type=int, metavar="N", help="table row, counted from 1")
    sp.add_argument("--role", choices=["worker", "supervisor", "tutor"], default="worker")
    sp.add_argument("--note", help="why this is evidence (optional)")
    sp.add_argument("--framework", metavar="NAME",
                    help="default: the record's own, else the worker's learning agreement's")
    sp.add_argument("--templates", help="templates folder holding your frameworks")
    sp = add("countersign", cmd_countersign, "countersign a record signed by both, as tutor")
    sp.add_argument("workbook", help="path to a workbook (.ipynb)")
    sp.add_argument("--name", required=True, help="the tutor's name or initials")
    sp.add_argument("--text", help="a comment to go with the countersignature")
    sp = add("review", cmd_review, "a record's review state, comments and evidence tags")
    sp.add_argument("workbook", help="path to a workbook (.ipynb)")
    sp.add_argument("--format", choices=["text", "json"], default="text")


# ---------------------------------------------------------------- programme scale (issue 16):
# caseload view and signers; JupyterHub deployment in deploy/. Parser entries: add_scale().


def cmd_signers(a: argparse.Namespace) -> None:
    from .signoff.sshsig import signers_from_agreement

    lines = [line for nb in a.agreement for line in signers_from_agreement(nb)]
    if not lines:
        raise InputError("no SSH public keys recorded in " + ", ".join(a.agreement))
    _out("\n".join(dict.fromkeys(lines)), data=True)


def cmd_caseload(a: argparse.Namespace) -> None:
    import datetime as dt

    from .caseload.api import load_caseload
    from .caseload.report import text_table, write_html, write_notebook_view
    from .caseload.view import SHOWN
    from .core.store import check_date, store_root
    from .progress.measures import SupervisionStandard

    start = dt.date.fromisoformat(check_date(a.start)) if a.start else None
    std = SupervisionStandard(newly_qualified=a.standard == "newly-qualified", start=start)
    stores = a.store or [str(store_root(None))]
    cl = load_caseload(stores, supervisor=a.supervisor, today=a.today, standard=std,
                       requirements=a.requirement, sort=a.sort, cache=not a.no_cache)
    for s in cl.skipped:
        sys.stderr.write(f"{PROG}: warning: skipped {s['error']}\n")
    if a.format == "json":
        _out(json.dumps({"today": cl.today.isoformat(), "standard": cl.standard.label,
                         "supervisees": cl.rows}, indent=1, ensure_ascii=False, default=str),
             data=True)
    elif a.format == "csv":
        _csv(SHOWN, ([r[c] for c in SHOWN] for r in cl.rows), not a.raw_csv)
    else:
        _out(text_table(cl))
    if a.html:
        sys.stderr.write(f"{PROG}: caseload page: {write_html(cl, a.html)}\n")
    if a.notebook:
        nb = write_notebook_view(a.notebook, stores, supervisor=a.supervisor,
                                 options={"requirements": a.requirement or None,
                                          "today": a.today})
        sys.stderr.write(f"{PROG}: caseload notebook: {nb}\n")


def add_scale(sub: Any, add: Callable[..., Any]) -> None:
    """The parser entries of the programme-scale commands."""
    sp = add("caseload", cmd_caseload, "every supervisee: last session, next due, unsigned or "
             "incomplete records, open safeguarding, actions past due, agreement, hours")
    sp.add_argument("--store", action="extend", nargs="+", metavar="DIR",
                    help="store folder(s): each user's store or pair folder (default: "
                         "$SUPERVISION_KIT_STORE or ./workbooks)")
    sp.add_argument("--supervisor", help="only this supervisor's records (name or hub account)")
    sp.add_argument("--sort", default="attention", metavar="COLUMN",
                    help="attention (default: most to do first) or any column; -COLUMN for "
                         "descending")
    sp.add_argument("--format", choices=["text", "csv", "json"], default="text")
    sp.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")
    sp.add_argument("--html", metavar="OUT", help="also write a page with the table and charts")
    sp.add_argument("--notebook", metavar="OUT.ipynb",
                    help="also write a caseload notebook (Voila-ready) that refreshes when run")
    sp.add_argument("--standard", choices=["monthly", "newly-qualified"], default="monthly",
                    help="supervision standard for the next due date (default: monthly)")
    sp.add_argument("--start", metavar="YYYY-MM-DD",
                    help="start of the newly-qualified year (default: each first session)")
    sp.add_argument("--requirement", action="append", metavar="[WORKER=]NAME",
                    help="hours requirement from templates/requirements (NAME for everyone, "
                         "WORKER=NAME for one supervisee); repeatable")
    sp.add_argument("--today", metavar="YYYY-MM-DD", help="as of this date (default: today)")
    sp.add_argument("--no-cache", action="store_true", help="read every record again")

    sp = add("signers", cmd_signers, "allowed-signers lines (for verify --allowed-signers) from "
             "the SSH public keys recorded in supervision agreements")
    sp.add_argument("agreement", nargs="+", help="agreement workbook(s) (.ipynb)")


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Reflective-supervision workbooks for social workers.")
    p.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, fn: Callable[[argparse.Namespace], None], help: str) -> _Parser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=fn)
        return sp

    def workbook_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("workbook", help="path to a workbook (.ipynb)")

    sp = add("new", cmd_new, "generate a workbook (a supervision session, worksheet, agreement…)")
    sp.add_argument("--worker", required=True, help="worker's name or initials")
    sp.add_argument("--supervisor", required=True, help="supervisor's name or initials")
    sp.add_argument("--case", action="append", metavar="CASE",
                    help="pseudonymous case id (letters, digits, - _); repeat for each case "
                         "discussed in a session; one for a worksheet")
    sp.add_argument("--date", help="session date YYYY-MM-DD (default: today)")
    sp.add_argument("--focus", help="reflection, ethics, skills, planning, or free text")
    sp.add_argument("--template", default="session", help="template name (default: session)")
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--templates", help="your own templates folder (default: the packaged one)")
    sp.add_argument("--param", action="append", metavar="KEY=VALUE",
                    help="template parameter, e.g. reflective_model=driscoll")
    sp.add_argument("--worker-user", metavar="ACCOUNT",
                    help="the worker's JupyterHub account: on a hub only it may sign as worker")
    sp.add_argument("--supervisor-user", metavar="ACCOUNT",
                    help="the supervisor's JupyterHub account (may sign as supervisor)")

    sp = add("prompts", cmd_prompts, "list a workbook's prompts")
    workbook_arg(sp)
    sp.add_argument("--format", choices=["text", "json"], default="text")

    sp = add("fill", cmd_fill, "save answers from a JSON file {prompt_id: value} (- for stdin)")
    workbook_arg(sp)
    sp.add_argument("--responses", required=True, metavar="FILE.json")
    sp.add_argument("--role", choices=["worker", "supervisor", "joint"],
                    help="who is answering (default: each prompt's role)")

    sp = add("not-discussed", cmd_not_discussed,
             "mark a prompt 'not discussed this time' (counts as answered for signing)")
    workbook_arg(sp)
    sp.add_argument("prompt", help="prompt id (see 'prompts NB')")
    sp.add_argument("--reason", required=True, help="why it was not discussed")
    sp.add_argument("--role", default="joint", choices=["worker", "supervisor", "joint"])

    sp = add("responses", cmd_responses, "print a workbook's answers")
    workbook_arg(sp)
    sp.add_argument("--format", choices=["json", "csv"], default="json")
    sp.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")

    sp = add("finalize", cmd_finalize, "write all answers into the .ipynb (close it first)")
    workbook_arg(sp)
    sp.add_argument("--force", action="store_true", help="even if a kernel seems to have it open")

    sp = add("demo", cmd_demo, "build a demo store of fictional cases and open JupyterLab")
    sp.add_argument("--store", default="workbooks/demo", help="(default: workbooks/demo)")
    sp.add_argument("--no-lab", action="store_true", help="only build the store")
    sp.add_argument("--no-browser", action="store_true", help="start JupyterLab without a browser")
    sp.add_argument("--port", type=int, default=8888)
    sp.add_argument("--reset", action="store_true", help="rebuild the demo store from scratch")

    sp = add("templates", cmd_templates_list, "list templates, or check a templates folder")
    sp.add_argument("--templates", help="templates folder (default: the packaged one)")
    tsub = sp.add_subparsers(dest="templates_command", metavar="ACTION", parser_class=_Parser)
    tc = tsub.add_parser("check", help="validate every prompt set and template in a folder")
    tc.add_argument("folder", nargs="?", help="templates folder (default: the packaged one)")
    tc.set_defaults(func=cmd_templates_check)

    sp = add("table", cmd_table, "print every answer in the store (one row per workbook x prompt)")
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--case", help="only this case")
    sp.add_argument("--format", choices=["csv", "json", "parquet"], default="csv",
                    help="parquet needs --out and pyarrow "
                         "(pip install 'supervision-kit[warehouse]')")
    sp.add_argument("--out", metavar="FILE", help="write to this file (parquet only)")
    sp.add_argument("--private", action="store_true",
                    help="include answers to prompts marked private (wellbeing, personal impact)")
    sp.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")

    sp = add("progress", cmd_progress, "make a progress-review notebook (charts) for a case")
    sp.add_argument("--case", required=True, help="pseudonymous case id")
    sp.add_argument("--store", help=STORE_HELP)
    sp.add_argument("--out", help="notebook path (default: <store>/<case>/<today>-progress.ipynb)")
    sp.add_argument("--html", action="store_true", help="also write a static HTML report")

    roles = ["worker", "supervisor"]
    sp = add("sign", cmd_sign, "sign a workbook's answers (both roles signed = locked)")
    workbook_arg(sp)
    sp.add_argument("--role", required=True, choices=roles)
    sp.add_argument("--name", required=True, help="your name or initials")
    sp.add_argument("--key", metavar="PATH", help="also sign with this SSH key (ssh-keygen -Y "
                    "sign; default $SUPERVISION_KIT_SIGNING_KEY); --name is its principal")

    sp = add("verify", cmd_verify, "check signatures and history; exit 1 if anything changed")
    workbook_arg(sp)
    sp.add_argument("--allowed-signers", metavar="FILE",
                    help="check SSH signatures against this allowed-signers file (git's format)")

    sp = add("addendum", cmd_addendum, "add a dated addendum to a locked workbook")
    workbook_arg(sp)
    sp.add_argument("--role", required=True, choices=roles)
    sp.add_argument("--text", required=True, help="the addendum (- reads stdin)")
    sp.add_argument("--name", help="your name or initials (optional)")

    sp = add("history", cmd_history, "show every saved change, signature and addendum")
    workbook_arg(sp)

    sp = add("scan", cmd_scan, "flag likely identifiers in answers; exit 1 if any are found")
    sp.add_argument("target", metavar="NB|STORE", help="a workbook or a store folder")
    sp.add_argument("--deny-list", metavar="FILE", help="names to flag, one per line")
    sp.add_argument("--only", metavar="KINDS", help="comma-separated detectors to run "
                    "(email,phone,nhs,ssn,dob,postcode,name)")
    sp.add_argument("--skip", metavar="KINDS", help="comma-separated detectors to leave out")

    sp = add("export", cmd_export, "export a workbook's answers as HTML or PDF (code hidden)")
    workbook_arg(sp)
    sp.add_argument("--to", choices=["html", "pdf"], default="html")
    sp.add_argument("--redact", action="store_true", help="replace likely identifiers first")
    sp.add_argument("--out", help="output file (default: beside the workbook)")
    sp.add_argument("--deny-list", metavar="FILE", help="names to redact, one per line")

    sp = add("workshop", cmd_workshop, "training workshops: generate, collect, summarise")
    wsub = sp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser,
                             required=True)
    wg = wsub.add_parser("generate", help="one workbook per participant + facilitator index")
    wg.add_argument("--vignette", required=True, help="vignette name (templates/vignettes)")
    wg.add_argument("--participants", type=int, metavar="N", help="codes P01..PNN")
    wg.add_argument("--codes", metavar="FILE", help="participant codes, one a line")
    wg.add_argument("--out", required=True, help="folder for the workbooks")
    wg.add_argument("--date", help="workshop date YYYY-MM-DD (default: today)")
    wg.add_argument("--templates", help="your own templates folder (default: the packaged one)")
    wg.add_argument("--public", action="store_true", default=None,
                    help="the start page says the server is public (default: only when "
                         "generated on a public host)")
    wc = wsub.add_parser("collect", help="all answers (workbooks, journals, downloads) as a table")
    wc.add_argument("folder", help="workshop folder (or a folder of downloaded workbooks)")
    wc.add_argument("--format", choices=["csv", "json"], default="csv")
    wc.add_argument("--raw-csv", action="store_true",
                    help="do not neutralise cells that start like a spreadsheet formula")
    wm = wsub.add_parser("summary", help="anonymised facilitator notebook (+ HTML) with charts")
    wm.add_argument("folder", help="workshop folder (or a folder of downloaded workbooks)")
    wm.add_argument("--show-codes", action="store_true", help="show participant codes")
    wm.add_argument("--html", action="store_true", help="also write summary.html")
    wm.add_argument("--out", help="notebook path (default: FOLDER/summary.ipynb)")

    sp = add("open", cmd_open, "open a workbook in JupyterLab, set up for filling it in")
    workbook_arg(sp)
    sp.add_argument("--port", type=int, default=8888, help="(default: 8888)")
    sp.add_argument("--no-browser", action="store_true", help="only print the address")
    sp.add_argument("--root", help="folder JupyterLab serves (default: the workbook's store)")

    sp = add("app", cmd_app, "open a workbook as a simple web page, without code (Voila)")
    workbook_arg(sp)
    sp.add_argument("--port", type=int, default=8866, help="(default: 8866)")
    sp.add_argument("--no-browser", action="store_true", help="only print the address")
    sp.add_argument("--cull-idle", type=int, default=900, metavar="SECONDS",
                    help="shut down a closed page's kernel after this idle time (default: 900)")

    _placement_parsers(add)
    add_scale(sub, add)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # jsonschema (via nbformat) imports an optional IRI-format checker that builds a grammar at
    # import time (~1.5 s here). No schema this tool validates uses IRI formats: skip it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if not getattr(args, "func", None):
            build_parser().print_help()
            return 2
        args.func(args)
        return 0
    except KitError as exc:
        if debug:
            raise
        sys.stderr.write(f"{PROG}: error: {terminal_safe(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # never a bare traceback
        if debug:
            raise
        msg = terminal_safe(" ".join(str(exc).split())[:300])
        sys.stderr.write(f"{PROG}: error: {type(exc).__name__}: {msg} (rerun with --debug)\n")
        return 1
