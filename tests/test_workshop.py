"""Training workshops: vignettes, batch generation, collect, anonymised summary, public-host
safety, and download + resume after a lost (culled) server."""

import base64
import datetime as dt
import json
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.sign import NotebookNotary

from supervision_kit import workshop as ws
from supervision_kit.core.errors import ConflictError, InputError, WorkbookError
from supervision_kit.core.prompts import templates_dir
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import (
    ANSWER_MIME,
    META,
    load_notebook,
    notebook_answers,
    prompt_index,
    read_answers,
)
from supervision_kit.kernel import panels
from supervision_kit.workshop import batch, binder, public
from tests.helpers import answer_cell, cell_prompts, external_refs, mirror_of, run_cli, source

pytestmark = pytest.mark.timeout(180)


def header(nb):
    return next(source(c) for c in nb["cells"] if "header" in c["metadata"].get("tags", []))


@pytest.fixture
def no_binder(monkeypatch):
    for k in (*public.BINDER_ENV, public.ENV_PUBLIC):
        monkeypatch.delenv(k, raising=False)


# ---------------------------------------------------------------- vignettes


def test_packaged_vignettes_are_valid_fictional_and_cover_the_topics():
    names = ws.list_vignettes()
    assert len(names) >= 4
    used = set()
    for name in names:
        v = ws.load_vignette(name)
        assert "Fictional training material" in v.body and v.learning_aims and v.setting
        used |= set(v.uses)
    sections = {u.split(":")[1] for u in used}
    assert {"client_centred", "ethics", "goals"} <= sections
    assert any(u.startswith("process_recording:") for u in used)


GOOD = """---
name: NAME
title: A made-up case
fictional: true
setting: An invented drop-in centre.
learning_aims: [Notice first reactions.]
uses: ["session:ethics"]
---

**Fictional training material.** Sam and Robin talk about a missed appointment.
"""


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("---\nname", "name", 1), "YAML front matter"),
    (lambda t: t.replace("fictional: true", "fictional: false"), "fictional: true"),
    (lambda t: t.replace("session:ethics", "session:nope"), "unknown section 'session:nope'"),
    (lambda t: t.replace("session:ethics", "nosuchset:x"), "unknown prompt set 'nosuchset'"),
    (lambda t: t.replace("session:ethics", "not a ref"), "prompt_set:section_id"),
    (lambda t: t.replace("name: bad-one", "name: other"), "does not match the file name"),
    (lambda t: t.replace("title: A made-up case", "title: [unclosed"), "not valid YAML"),
    (lambda t: t.replace("learning_aims: [Notice first reactions.]", "learning_aims: []"),
     "'learning_aims' must be a non-empty list"),
    (lambda t: t.split("\n---\n")[0] + "\n---\n\n", "vignette text"),
])
def test_bad_vignette_is_one_line_error_naming_the_file(tmp_path, change, message):
    folder = tmp_path / "templates"
    shutil.copytree(templates_dir(), folder)
    good = folder / "vignettes" / "good-one.md"
    good.write_text(GOOD.replace("NAME", "good-one"))
    assert ws.load_vignette("good-one", str(folder)).title == "A made-up case"
    bad = folder / "vignettes" / "bad-one.md"
    bad.write_text(change(GOOD.replace("NAME", "bad-one")))
    with pytest.raises(InputError) as err:
        ws.load_vignette("bad-one", str(folder))
    text = str(err.value)
    assert "\n" not in text and str(bad) in text and message in text


def test_unknown_vignette_lists_the_available_ones():
    with pytest.raises(InputError, match="available: .*the-quiet-room"):
        ws.load_vignette("no-such-case")


# ---------------------------------------------------------------- generate


def test_generate_30_one_render_copied(tmp_path):
    res = ws.generate("saturday-football", tmp_path / "ws", participants=30, date="2026-03-02")
    paths = res["workbooks"]
    assert [p.name for p in paths] == [f"P{i:02d}-workshop.ipynb" for i in range(1, 31)]
    ids = set()
    v = ws.load_vignette("saturday-football")
    for i, path in enumerate(paths, 1):
        nb = load_notebook(path)
        info = nb["metadata"][META]["workbook"]
        code = f"P{i:02d}"
        assert info["case_id"] == code and info["vignette"] == "saturday-football"
        assert info["template"] == "workshop"
        ids.add(info["id"])
        assert f"**Participant** {code}" in header(nb) and v.title in header(nb)
        injected = next(source(c) for c in nb["cells"]
                        if "injected-parameters" in c["metadata"].get("tags", []))
        assert f'workbook_file = "{code}-workshop.ipynb"' in injected
        assert batch._PLACEHOLDER not in path.read_text()
    assert len(ids) == 30
    sections = [s["id"] for s in load_notebook(paths[6])["metadata"][META]["prompt_set"]
                ["sections"]]
    assert sections == ["warmup", "safeguarding", "ethics", "client_centred",
                        "vignette_questions", "debrief"]
    prompts = load_notebook(paths[6])["metadata"][META]["prompt_set"]["sections"]
    every = [p for s in prompts for p in s["prompts"]]
    assert not any(p.get("role") == "supervisor" for p in every)  # participants never see
    assert all("rater_wording" not in p for p in every)
    rated = [p for p in every if p["kind"] == "scale" and "rates" in p]
    assert rated and all("worker" in p["label"].lower() for p in rated)  # third person
    assert "Facilitator notes" not in header(load_notebook(paths[6]))
    assert NotebookNotary().check_signature(nbformat.read(paths[6], as_version=4))
    index = res["index"].read_text()
    for i in range(1, 31):
        assert f"[P{i:02d}-workshop.ipynb](P{i:02d}-workshop.ipynb)" in index
    assert "not inside the repository" in index  # a temp folder: no link, a clear note
    assert "?urlpath=" not in index
    start = json.loads(res["start"].read_text())
    assert start["metadata"][batch.MARK]["kind"] == "start"
    assert "(P30-workshop.ipynb)" in "".join(source(c) for c in start["cells"])


def test_launch_links_come_from_one_setting_and_the_path_in_the_repository(tmp_path,
                                                                           monkeypatch):
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "pyproject.toml").write_text('[tool.supervision-kit]\nbinder_repo = "org/training"\n')
    monkeypatch.delenv(binder.ENV_REPO, raising=False)
    monkeypatch.chdir(tmp_path)  # --out given as an absolute path, from outside the repo
    res = ws.generate("the-quiet-room", repo / "sub" / "ws", participants=2)
    index = "".join(source(c) for c in json.loads(res["index"].read_text())["cells"])
    base = "https://mybinder.org/v2/gh/org/training/main?urlpath=lab/tree/sub/ws/"
    assert base + "START.ipynb" in index and base + "P02-workshop.ipynb" in index
    monkeypatch.setenv(binder.ENV_REPO, "fork/copy")
    monkeypatch.setenv(binder.ENV_REF, "autumn")
    res = ws.generate("the-quiet-room", repo / "sub" / "ws2", participants=1)
    assert "https://mybinder.org/v2/gh/fork/copy/autumn?urlpath=lab/tree/sub/ws2/START.ipynb" \
        in res["index"].read_text()
    (repo / "pyproject.toml").write_text("[tool.supervision-kit]\n")
    monkeypatch.delenv(binder.ENV_REPO)
    res = ws.generate("the-quiet-room", repo / "ws3", participants=1)
    assert "No Binder repository is set" in res["index"].read_text()


def test_start_page_says_public_only_on_a_public_host(tmp_path, no_binder, monkeypatch):
    def start_text(folder, **kw):
        res = ws.generate("the-quiet-room", tmp_path / folder, participants=1, **kw)
        return "".join(source(c) for c in json.loads(res["start"].read_text())["cells"])

    assert "public" not in start_text("local").lower().replace("publicly", "")
    assert "This server is public" in start_text("forced", public=True)
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    assert "This server is public" in start_text("binder")


def test_header_shows_the_learning_aims_once(tmp_path):
    res = ws.generate("the-quiet-room", tmp_path / "ws", participants=1)
    text = header(load_notebook(res["workbooks"][0]))
    assert text.lower().count("learning aims") == 1
    v = ws.load_vignette("the-quiet-room")
    assert all(aim in text for aim in v.learning_aims)


def test_generate_from_codes_file_and_refuse_to_overwrite(tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("# group A\nred-01\n\nred-02\n")
    res = ws.generate("the-quiet-room", tmp_path / "ws", codes_file=str(codes))
    assert [p.name for p in res["workbooks"]] == ["red-01-workshop.ipynb", "red-02-workshop.ipynb"]
    before = sorted(p.name for p in (tmp_path / "ws").iterdir())
    with pytest.raises(ConflictError, match="already exists"):
        ws.generate("the-quiet-room", tmp_path / "ws", participants=3)
    assert sorted(p.name for p in (tmp_path / "ws").iterdir()) == before  # nothing written
    codes.write_text("red-01\nJane Smith\n")
    with pytest.raises(InputError, match=r"code 2: invalid participant code 'Jane Smith'"):
        batch.participant_codes(codes_file=str(codes))
    codes.write_text("a1\na1\n")
    with pytest.raises(InputError, match="duplicate participant code 'a1'"):
        batch.participant_codes(codes_file=str(codes))
    with pytest.raises(InputError, match="--participants must be"):
        batch.participant_codes(0)


# ---------------------------------------------------------------- collect + summary


def _fill_group(folder, codes):
    from supervision_kit.record import fill

    texts = {}
    for n, code in enumerate(codes):
        texts[code] = f"The moment the coach hesitated, version {n}."
        fill(folder / f"{code}-workshop.ipynb",
             {"ws_stood_out": texts[code], "ws_confidence": 1 + n % 5,
              "eth_dilemma": ["Yes", "No"][n % 2]})
    return texts


def test_collect_merges_workbooks_journals_and_downloads(tmp_path, no_binder):
    codes = ["grp-a-01", "grp-a-02", "grp-a-03"]
    out = tmp_path / "ws"
    ws.generate("saturday-football", out, codes=codes)
    _fill_group(out, codes)
    (out / "notes.ipynb").write_text('{"cells": [], "metadata": {}}')  # not ours: skipped
    df = ws.collect(out)
    assert sorted(set(df["participant"])) == codes
    assert len(df) == 9 and set(df["source"]) == {"journal"}
    row = df[(df.participant == "grp-a-02") & (df.prompt_id == "ws_confidence")].iloc[0]
    assert row["value"] == 2 and row["kind"] == "scale" and row["section"] == "debrief"
    assert any("notes.ipynb" in s for s in df.attrs["skipped"])
    # a participant's downloaded copy, alone in the facilitator's inbox folder
    from supervision_kit.kernel.form import Workbook

    wb = Workbook(out / "grp-a-01-workshop.ipynb")
    name, data = panels.download(wb)
    wb.close()
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / name).write_bytes(data)
    df2 = ws.collect(inbox)
    assert set(df2["source"]) == {"download"} and set(df2["participant"]) == {"grp-a-01"}
    assert len(df2) == 3


def test_summary_is_anonymised_unless_codes_are_asked_for(tmp_path, no_binder):
    codes = ["grp-b-01", "grp-b-02", "grp-b-03", "grp-b-04"]
    out = tmp_path / "ws"
    ws.generate("saturday-football", out, codes=codes)
    texts = _fill_group(out, codes)
    res = ws.summary(out, html=True)
    nb = json.loads(res["notebook"].read_text())
    text = "\n".join(source(c) for c in nb["cells"])
    html_text = res["html"].read_text()
    for code in codes:
        assert code not in text and code not in html_text
        assert code not in json.dumps(nb["metadata"])
    for t in texts.values():
        assert t.replace(".", "\\.") in text  # markdown-escaped, never raw HTML
    assert "| What stood out for you in the vignette? | 4 of 4 |" in text
    assert "| First impressions | What stood out" in text  # section titles, not ids
    assert "## First impressions" in text and "warmup" not in text
    assert external_refs(html_text) == [] and "<script src" not in html_text  # offline
    pngs = [a["image/png"] for c in nb["cells"] for a in c.get("attachments", {}).values()]
    assert len(pngs) == 2  # the confidence scale and the yes/no choice
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)
    assert html_text.count("data:image/png;base64,") >= 2
    shown = ws.summary(out, show_codes=True, out=tmp_path / "with-codes.ipynb")
    shown_text = shown["notebook"].read_text()
    assert all(code.replace("-", "\\\\-") in shown_text for code in codes)


def test_cli_three_commands(tmp_path, no_binder):
    out = tmp_path / "ws"
    code, stdout, err = run_cli("workshop", "generate", "--vignette", "tuesday-lunch-club",
                                "--participants", "30", "--out", out)
    assert code == 0, err
    assert "generated 30 workbooks" in stdout and (out / "index.ipynb").is_file()
    from supervision_kit.record import fill

    fill(out / "P03-workshop.ipynb", {"ws_take_away": "Ask about the good days too."})
    code, stdout, err = run_cli("workshop", "collect", out)
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("participant,vignette,prompt_id") and len(lines) == 2
    assert lines[1].startswith("P03,tuesday-lunch-club,ws_take_away")
    code, stdout, err = run_cli("workshop", "collect", out, "--format", "json")
    assert json.loads(stdout)[0]["value"] == "Ask about the good days too."
    code, stdout, err = run_cli("workshop", "summary", out, "--html")
    assert code == 0, err
    assert (out / "summary.html").is_file()
    assert "P03" not in (out / "summary.ipynb").read_text()
    code, _o, err = run_cli("workshop", "generate", "--vignette", "tuesday-lunch-club",
                            "--out", out)
    assert code == 2 and "--participants N or --codes FILE" in err
    code, _o, err = run_cli("workshop", "collect", tmp_path / "missing")
    assert code == 2 and err.count("\n") == 1


# ---------------------------------------------------------------- public hosts


def test_public_host_detection(monkeypatch, no_binder):
    assert not public.public_host() and public.banner_html() == ""
    monkeypatch.setenv("JUPYTERHUB_USER", "someone")  # a private hub is not a public host
    assert not public.public_host()
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    assert public.public_host() and public.BANNER in public.banner_html()
    monkeypatch.setenv(public.ENV_PUBLIC, "0")
    assert not public.public_host()
    monkeypatch.delenv("BINDER_LAUNCH_HOST")
    monkeypatch.setenv(public.ENV_PUBLIC, "1")
    assert public.public_host()


def test_public_host_refuses_non_workshop_workbooks(tmp_path, make_workbook, monkeypatch,
                                                    no_binder, capsys):
    from supervision_kit.kernel import open_workbook

    session = make_workbook(case="demo-01")
    ws.generate("the-quiet-room", tmp_path / "ws", participants=1)
    monkeypatch.chdir(session.parent)
    open_workbook(session.name, show=False).close()  # fine on a private machine
    monkeypatch.setenv("BINDER_REPO_URL", "https://github.com/example/training")
    with pytest.raises(WorkbookError, match="public training server"):
        open_workbook(session.name, show=False)
    capsys.readouterr()
    refused = open_workbook(session.name)  # in a workbook: one message, and a quiet stand-in
    assert "public training server" in capsys.readouterr().out
    assert refused.ask("anything") is None and refused.finish_panel() is None
    monkeypatch.chdir(tmp_path / "ws")
    wb = open_workbook("P01-workshop.ipynb")
    wb.close()
    assert public.BANNER in capsys.readouterr().out


def test_banner_and_refusal_in_a_real_kernel(tmp_path, make_workbook, monkeypatch):
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.org/")
    ws.generate("mornings-at-the-flat", tmp_path / "ws", participants=1)

    def run(path):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return [o for c in nb.cells for o in c.get("outputs", [])]

    outs = run(tmp_path / "ws" / "P01-workshop.ipynb")
    assert not [o for o in outs if o.output_type == "error"]
    assert any(public.BANNER in o.get("data", {}).get("text/plain", "") for o in outs)
    outs = run(make_workbook(case="demo-02"))
    assert not [o for o in outs if o.output_type == "error"]  # no traceback, no NameError
    shown = [o for o in outs if o.output_type == "stream"  # anything with text to see
             or "".join(o.get("data", {}).get("text/plain", "")).strip()]
    assert len(shown) == 1, shown  # ONE clear message; every later cell stays quiet
    assert "public training server" in shown[0]["data"]["text/plain"]


# ---------------------------------------------------------------- download + resume


def _answers_for(prompts):
    """Valid answers of several kinds for the saturday-football workshop."""
    values = prompts["eth_values"]["options"]
    principle = prompts["eth_principles"]["columns"]
    return {
        "ws_stood_out": "The coach asked the boy to keep a secret.\nThen went quiet.",
        "ws_confidence": 4,
        "eth_dilemma": "Not sure",
        "eth_values": [values[0], values[2]],
        "eth_review_date": "2026-04-01",
        "eth_principles": [{principle[0]["id"]: principle[0]["options"][0],
                            principle[1]["id"]: "Keeping him safe comes first.",
                            principle[2]["id"]: None}],
        "cc_empathy_evidence": "I named the worry out loud.",
    }


def test_download_delete_server_copy_resume_from_download(tmp_path, monkeypatch, no_binder):
    from supervision_kit.kernel import open_workbook

    server = tmp_path / "session-1"
    ws.generate("saturday-football", server, participants=12)
    monkeypatch.chdir(server)
    wb = open_workbook("P07-workshop.ipynb", show=False)
    expected = _answers_for(wb.prompts)
    for pid, value in expected.items():
        wb._changed(pid, value)  # as the widgets do; pending in the debounced writer
    open_bytes = (server / "P07-workshop.ipynb").read_bytes()
    name, data = panels.download(wb)
    assert (server / "P07-workshop.ipynb").read_bytes() == open_bytes  # open file untouched
    assert name.startswith("P07-workshop-") and name.endswith(".ipynb")
    downloaded = json.loads(data)
    assert {k: a["v"] for k, a in notebook_answers(downloaded).items()} == \
        {k: read_answers(server / "P07-workshop.ipynb")["answers"][k] for k in expected}
    wb.close()

    shutil.rmtree(server)  # Binder culled the server: everything on it is gone
    assert not journal_path(server / "P07-workshop.ipynb").exists()

    fresh = tmp_path / "session-2"
    ws.generate("saturday-football", fresh, participants=12)
    monkeypatch.chdir(fresh)
    wb2 = open_workbook("P07-workshop.ipynb", show=False)
    wb2.ask("ws_stood_out")  # a displayed widget gets the restored answer too
    assert panels.restore(wb2, data, name) == len(expected)
    assert wb2.fields["ws_stood_out"].value == expected["ws_stood_out"]
    assert wb2.answers() == expected
    wb2.close()
    assert read_answers(fresh / "P07-workshop.ipynb")["answers"] == expected
    assert panels.restore(open_workbook("P07-workshop.ipynb", show=False), data, name) == 0


def test_upload_is_validated(tmp_path, monkeypatch, make_workbook, no_binder):
    from supervision_kit.kernel import open_workbook

    ws.generate("saturday-football", tmp_path / "ws", participants=2)
    monkeypatch.chdir(tmp_path / "ws")
    other = open_workbook("P02-workshop.ipynb", show=False)
    other._changed("ws_stood_out", "someone else's answer")
    _n, other_data = panels.download(other)
    other.close()
    wb = open_workbook("P01-workshop.ipynb", show=False)
    with pytest.raises(WorkbookError, match="participant 'P02'"):
        panels.restore(wb, other_data, "P02.ipynb")
    with pytest.raises(WorkbookError, match="not a notebook"):
        panels.restore(wb, b"\x00\x01garbage", "photo.jpg")
    with pytest.raises(WorkbookError, match="not a workshop workbook"):
        panels.restore(wb, make_workbook(case="demo-03").read_bytes(), "session.ipynb")
    nb = json.loads(other_data)
    nb["metadata"][META]["workbook"]["case_id"] = "P01"
    pid = cell_prompts(answer_cell(nb))[0]
    mirror = mirror_of(nb, pid)
    mirror["data"][ANSWER_MIME]["value"] = 99
    with pytest.raises(InputError, match=pid):
        panels.restore(wb, json.dumps(nb).encode(), "edited.ipynb")
    assert wb.answers() == {}
    wb.close()


def test_download_panel_button_and_upload_widgets(tmp_path, monkeypatch, no_binder):
    import IPython.display

    from supervision_kit.kernel import open_workbook

    ws.generate("the-quiet-room", tmp_path / "ws", participants=1)
    monkeypatch.chdir(tmp_path / "ws")
    wb = open_workbook("P01-workshop.ipynb", show=False)
    wb._changed("ws_take_away", "Slow down at the start.")
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    wb.download_panel()
    panel = shown[0]
    link, upload, message = panel.children[0], panel.children[2], panel.children[3]
    # ONE click: the link is the download itself (an <a download>), made before any click
    m = re.search(r"<a class='sk-download' download='P01-workshop-[^']+\.ipynb' "
                  r"href='data:application/x-ipynb\+json;base64,([^']+)'", link.value)
    data = base64.b64decode(m.group(1))
    ids = prompt_index(json.loads(data))
    assert notebook_answers(json.loads(data))["ws_take_away"]["v"] == "Slow down at the start."
    assert "ws_take_away" in ids
    wb.flush()
    journal_path(wb.path).unlink()  # lose the answers, then resume through the upload widget
    wb.values.clear()
    upload.value = ({"name": "mine.ipynb", "type": "", "size": len(data),
                     "last_modified": dt.datetime.now(dt.UTC), "content": memoryview(data)},)
    assert "Restored 1 answer from mine.ipynb" in message.value
    assert upload.value == ()
    assert read_answers(wb.path)["answers"] == {"ws_take_away": "Slow down at the start."}
    wb.close()


def test_vignette_questions_content_notes_and_facilitator_notes(tmp_path):
    v = ws.load_vignette("no-interpreter-today")
    res = ws.generate("no-interpreter-today", tmp_path / "ws", participants=1)
    nb = load_notebook(res["workbooks"][0])
    ids = [p["id"] for s in nb["metadata"][META]["prompt_set"]["sections"] for p in s["prompts"]]
    assert [q["id"] for q in v.questions] == [i for i in ids if i.startswith("vq_")]
    text = header(nb)
    assert text.count("Learning aims") == 1 and "Content note" in text
    assert not any(point[:40] in text for point in v.facilitator_notes["teaching_points"])
    index = res["index"].read_text()
    assert "Facilitator notes" in index and "Teaching points" in index and "UK practice" in index
