"""The JupyterLab launcher (``open``/``demo``): set up with JupyterLab's own mechanisms."""

import json
import os
import sys

import pytest

from supervision_kit.core.errors import InputError
from supervision_kit.launch import lab


def test_prepare_writes_settings_workspace_and_page_config(make_workbook, store):
    nb = make_workbook(case="c-01")
    prepared = lab.prepare(store, nb)
    rel = "sessions/2026-03-02-session-c-01.ipynb"
    assert prepared["rel"] == rel and prepared["url_path"] == "/lab/workspaces/supervision-kit"
    shell = prepared["settings"] / "@jupyterlab" / "application-extension"
    assert json.loads((shell / "shell.jupyterlab-settings").read_text()) == {"startMode": "single"}
    note = prepared["settings"] / "@jupyterlab" / "apputils-extension"
    assert json.loads((note / "notification.jupyterlab-settings").read_text())["fetchNews"] \
        == "false"
    page = json.loads((prepared["config"] / "labconfig" / "page_config.json").read_text())
    assert page["disabledExtensions"] == {lab.NEWS_PLUGIN: True}
    (space,) = prepared["workspaces"].glob("*.jupyterlab-workspace")
    data = json.loads(space.read_text())
    layout = data["data"]["layout-restorer:data"]
    assert layout["left"]["collapsed"] and layout["main"]["current"] == f"notebook:{rel}"
    assert data["metadata"]["id"] == "supervision-kit"
    assert os.stat(store / ".supervision-kit").st_mode & 0o077 == 0


def test_command_binds_locally_with_a_token_and_hides_journals(make_workbook, store):
    nb = make_workbook(case="c-01")
    prepared = lab.prepare(store, nb)
    cmd = lab.lab_command(store, prepared, port=8123, token="t0k", browser=False)
    assert cmd[:3] == [sys.executable, "-m", "jupyterlab"]
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--IdentityProvider.token=t0k" in cmd
    assert "--no-browser" in cmd and "--port=8123" in cmd
    globs = json.loads(next(a for a in cmd if a.startswith("--ContentsManager.hide_globs="))
                       .split("=", 1)[1])
    assert {"*.journal.jsonl", ".*.lock", ".*.kernel.json"} <= set(globs)
    assert ("--ServerApp.allow_root=True" in cmd) == (os.geteuid() == 0)
    env = lab.lab_env(prepared)
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(prepared["config"])
    assert lab.open_url(8123, "t0k", prepared) == \
        "http://127.0.0.1:8123/lab/workspaces/supervision-kit?token=t0k"


def test_refuses_what_is_not_a_workbook_inside_the_root(tmp_path, make_workbook, store):
    with pytest.raises(InputError, match="not a workbook"):
        lab.run_lab(tmp_path / "missing.ipynb")
    with pytest.raises(InputError, match="is not inside"):
        lab.prepare(tmp_path / "elsewhere", make_workbook())
