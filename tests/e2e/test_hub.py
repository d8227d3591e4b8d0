"""A real JupyterHub: OS users, a pair's group folder, nbgitpuller, hub identity, culling.

JupyterHub (pip) with configurable-http-proxy (npm) on 127.0.0.1, the dummy authenticator
with a password, and the local-process spawner running each user's server as their own OS
user (created here with useradd, removed afterwards). The hub loads the deployment's own
fragment, deploy/jupyterhub_config.d/supervision_kit.py, which makes the pair's folder, group
and signing keys before each server starts. A git daemon on 127.0.0.1 serves the templates
repository that the nbgitpuller link pulls.

The scenario, in Chromium:
1. the worker logs in and opens the nbgitpuller link; the launcher in the pulled repository
   makes a session workbook in the pair's shared folder; the worker types an answer (on disk
   within a second) and is refused when signing as the supervisor;
2. the worker's server is stopped the way the idle culler stops it: nothing is lost;
3. the supervisor logs in, opens the same record from the shared folder, sees the answer,
   adds feedback and signs (with the hub-managed SSH key); the worker signs: locked, and
   ``verify --allowed-signers`` accepts both signatures;
4. a third user cannot read the record, through their server or on the OS;
5. a template update pulled through the same link keeps the worker's own edit and leaves
   the record untouched.

Needs root (useradd, setuid spawning), configurable-http-proxy, git and Chromium; otherwise
it skips and says which (it fails instead under CI=true).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from supervision_kit.core.journal import read_journal
from supervision_kit.core.store import journal_path
from supervision_kit.hub.pairs import Pair
from tests.e2e.conftest import (
    REPORT,
    UI_TIMEOUT,
    VIEWPORT,
    Lab,
    free_port,
    quiet_lab_settings,
    stop,
)
from tests.helpers import ROOT, run_cli

pytestmark = [pytest.mark.timeout(900)]

START = 120.0  # s: the hub, a server, a kernel on a busy 2-core machine
PASSWORD = "sk-" + secrets.token_hex(8)
CASE = "c-101"
STORY = "We met at the family centre; the visit was calm and the plan held."
FEEDBACK = "Good use of the plan; next time check the school's view first."


def _need(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"hub test cannot run in CI: {reason}")
    pytest.skip(f"hub test skipped: {reason}")


def _run(*cmd: Any, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True,
                          timeout=kw.pop("timeout", 60), **kw)


# ---------------------------------------------------------------- a Python other users can run


def user_python(base: Path) -> tuple[str, dict[str, str], list[Path]]:
    """(python, environment, mounts) with which the test users can run this package.

    This interpreter may live where other users cannot reach (pyenv under /root): then its
    prefix is bind-mounted read-only at a world-readable path, with LD_LIBRARY_PATH for
    libpython. The package itself is this checkout's, copied (with its templates) to a
    world-readable folder: a checkout in a private folder would otherwise be out of reach.
    """
    src = base / "src"
    for part in ("supervision_kit", "templates"):
        shutil.copytree(ROOT / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for p in (src, *src.rglob("*")):
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    env = {"PYTHONPATH": str(src)}
    probe = ("import jupyterhub.singleuser, jupyterlab, ipywidgets, nbgitpuller, "
             "supervision_kit.hub.launcher")

    def works(py: str, extra: dict[str, str]) -> bool:
        res = subprocess.run(["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in
                                                                     extra.items()), py,
                              "-c", probe], capture_output=True, timeout=120, cwd="/")
        return res.returncode == 0

    exe = os.path.realpath(sys.executable)
    if works(exe, env):
        return exe, env, []
    prefix = Path(sys.base_prefix)
    mnt = base / "python"
    mnt.mkdir()
    try:
        _run("mount", "--bind", prefix, mnt)
    except (subprocess.CalledProcessError, OSError) as exc:
        _need(f"{prefix} is not readable by other users and cannot be bind-mounted ({exc})")
    mounts = [mnt]
    with contextlib.suppress(subprocess.CalledProcessError):
        _run("mount", "-o", "remount,bind,ro", mnt)
    py = str(mnt / "bin" / Path(exe).name)
    env["LD_LIBRARY_PATH"] = str(mnt / "lib")
    if not works(py, env):
        for m in mounts:
            subprocess.run(["umount", str(m)], capture_output=True)
        _need("no Python with jupyterhub, jupyterlab, ipywidgets and nbgitpuller that other "
              "users can run")
    return py, env, mounts


# ---------------------------------------------------------------- the templates repository


HUBSESSION = """\
name: hubsession
title: Supervision session (hub)
version: "1.0"
kind: session
sections:
  - id: reflect
    title: Reflection
    prompts:
      - {id: story, kind: long_text, label: "What happened, and what did you do?",
         role: worker, required: true}
      - {id: feedback, kind: long_text, label: "Supervisor's feedback", role: supervisor,
         required: true}
"""


def make_templates_repo(base: Path) -> tuple[Path, Path]:
    """(bare repository served by git daemon, work tree to push updates from)."""
    work = base / "git-work"
    (work / "templates" / "prompts").mkdir(parents=True)
    shutil.copy(ROOT / "deploy" / "templates-repo" / "START.ipynb", work / "START.ipynb")
    nb = json.loads((ROOT / "templates" / "session.ipynb").read_text())
    nb["cells"] = [c for c in nb["cells"] if "progress_strip" not in c["metadata"].get("tags",
                                                                                        [])]
    params = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    params["source"] = "".join(params["source"]).replace('"session"', '"hubsession"')
    (work / "templates" / "hubsession.ipynb").write_text(json.dumps(nb, indent=1))
    (work / "templates" / "prompts" / "hubsession.yaml").write_text(HUBSESSION)
    (work / "README.md").write_text("# Supervision templates\n\nOpen START.ipynb.\n")
    git = ["git", "-c", "user.name=Programme admin", "-c", "user.email=admin@example.org"]
    _run("git", "init", "-q", "-b", "main", work)
    _run(*git, "-C", work, "add", "-A")
    _run(*git, "-C", work, "commit", "-q", "-m", "templates")
    bare = base / "git" / "supervision-templates.git"
    _run("git", "clone", "-q", "--bare", work, bare)
    _run("git", "-C", work, "remote", "add", "origin", bare)
    return bare, work


# ---------------------------------------------------------------- the hub


class Hub:
    """The running hub, its admin token, and what the scenario needs to know about it."""

    def __init__(self, url: str, token: str, proc: subprocess.Popen, log: Path, srv: Path,
                 repo_url: str, users: dict[str, str], pair: Pair, work: Path,
                 base: Path) -> None:
        self.url, self.token, self.proc, self.log, self.srv = url, token, proc, log, srv
        self.repo_url, self.users, self.pair, self.work, self.base = (repo_url, users, pair,
                                                                      work, base)

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(f"{self.url}/hub/api{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def stop_server(self, user: str, timeout: float = 60) -> None:
        """What jupyterhub-idle-culler does to an idle server: DELETE it through the API."""
        with contextlib.suppress(urllib.error.HTTPError):
            self.api("DELETE", f"/users/{user}/server")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.api("GET", f"/users/{user}").get("servers"):
                return
            time.sleep(0.5)
        pytest.fail(f"{user}'s server did not stop within {timeout:.0f} s")

    def pull_link(self, path: str) -> str:
        q = urllib.parse.urlencode({"repo": self.repo_url, "branch": "main",
                                    "targetpath": "supervision-templates",
                                    "urlpath": f"lab/tree/supervision-templates/{path}"})
        return f"{self.url}/hub/user-redirect/git-pull?{q}"


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = START) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterHub exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(urllib.error.URLError, OSError), \
                urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.3)
    pytest.fail(f"JupyterHub did not answer within {timeout:.0f} s:\n{log.read_text()[-4000:]}")


HUB_CONFIG = """\
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.pid_file = {base!r} + "/proxy.pid"
c.JupyterHub.pid_file = {base!r} + "/jupyterhub.pid"
c.JupyterHub.db_url = "sqlite:///" + {base!r} + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = {base!r} + "/cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = {users!r}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.environment = {env!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services = [{{"name": "sk-test", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "sk-test", "services": ["sk-test"],
                            "scopes": ["admin:servers", "list:users", "read:users"]}}]
load_subconfig({fragment!r})  # noqa - the deployment's own fragment
"""


@pytest.fixture(scope="module")
def hub(chromium) -> Iterator[Hub]:
    if os.geteuid() != 0 or not shutil.which("useradd"):
        _need("needs root and useradd (the spawner runs each user as their own OS user)")
    chp = shutil.which("configurable-http-proxy")
    if not chp:
        _need("configurable-http-proxy is not installed (npm install -g "
              "configurable-http-proxy; scripts/test.sh does it)")
    if not shutil.which("git"):
        _need("git is not installed")
    base = Path(tempfile.mkdtemp(prefix="sk-hub-", dir="/tmp"))
    os.chmod(base, 0o755)
    tag = secrets.token_hex(3)
    users = {"worker": f"skw{tag}", "supervisor": f"sks{tag}", "third": f"skx{tag}"}
    created: list[str] = []
    procs: list[tuple[subprocess.Popen, Any]] = []
    mounts: list[Path] = []
    srv = base / "srv"
    pair = Pair(users["worker"], "A. Okafor", users["supervisor"], "B. Lindqvist")
    try:
        for u in users.values():
            _run("useradd", "--create-home", "--shell", "/bin/bash", u)
            created.append(u)
            os.chmod(pwd.getpwnam(u).pw_dir, 0o700)
        python, env, mounts = user_python(base)
        srv.mkdir(mode=0o711)
        (srv / "pairs.csv").write_text(
            "worker_user,worker_name,supervisor_user,supervisor_name\n"
            f"{pair.worker_user},{pair.worker_name},{pair.supervisor_user},"
            f"{pair.supervisor_name}\n")
        bare, work = make_templates_repo(base)
        git_port = free_port()
        glog = (base / "git-daemon.log").open("w")
        gproc = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all",
                                  f"--base-path={base / 'git'}", "--listen=127.0.0.1",
                                  f"--port={git_port}", str(base / "git")],
                                 stdout=glog, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append((gproc, glog))
        settings = base / "lab-settings"
        quiet_lab_settings(settings)
        for d in (settings, *settings.rglob("*")):
            os.chmod(d, 0o755 if d.is_dir() else 0o644)
        env = {**env, "JUPYTERLAB_SETTINGS_DIR": str(settings),
               "SUPERVISION_KIT_LOCK_WAIT": "20"}
        port, token = free_port(), secrets.token_hex(24)
        hubdir = base / "hub"
        hubdir.mkdir(mode=0o700)
        cfg = hubdir / "jupyterhub_config.py"
        cfg.write_text(HUB_CONFIG.format(
            port=port, hub_port=free_port(), api_port=free_port(), chp=chp, base=str(hubdir),
            password=PASSWORD, users=set(users.values()), python=python, env=env, token=token,
            fragment=str(ROOT / "deploy" / "jupyterhub_config.d" / "supervision_kit.py")))
        log = hubdir / "jupyterhub.log"
        hub_env = {**os.environ, "SUPERVISION_KIT_HUB_ROOT": str(srv),
                   "SUPERVISION_KIT_OS_USER": "{username}", "SUPERVISION_KIT_CREATE_USERS": "0",
                   "SUPERVISION_KIT_CULL_TIMEOUT": "3600", "PYTHONUNBUFFERED": "1"}
        hub_env.pop("SUPERVISION_KIT_STORE", None)
        fh = log.open("w")
        proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(cfg)],
                                cwd=hubdir, env=hub_env, stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
        procs.append((proc, fh))
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/hub/api", proc, log)
        yield Hub(url, token, proc, log, srv,
                  f"git://127.0.0.1:{git_port}/supervision-templates.git", users, pair, work,
                  base)
    finally:
        for p, fh in reversed(procs):
            stop(p, timeout=30)
            fh.close()
        for u in created:  # anything still running as a test user was started by this hub
            out = subprocess.run(["ps", "-o", "pid=", "-u", u], capture_output=True, text=True)
            for pid in out.stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
        for m in mounts:
            subprocess.run(["umount", str(m)], capture_output=True, timeout=60)
        for u in created:
            subprocess.run(["userdel", "--remove", u], capture_output=True, timeout=60)
        subprocess.run(["groupdel", pair.group], capture_output=True, timeout=60)
        if os.environ.get("SUPERVISION_KIT_KEEP_HUB"):
            print(f"hub test files kept in {base}")
        elif not any(m.is_mount() for m in mounts):
            shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- browser helpers


PAGE = Lab("", "", Path("/"), None, None, Path(tempfile.gettempdir()))  # page actions only


def login(browser: Any, hub: Hub, user: str) -> tuple[Any, Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(UI_TIMEOUT)
    page = ctx.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=START * 1000)
    return ctx, page


def open_notebook(page: Any, hub: Hub, user: str, rel: str) -> None:
    """Open a notebook in a workspace of its own (nothing else restored around it)."""
    ws = "w" + secrets.token_hex(4)
    page.goto(f"{hub.url}/user/{user}/lab/workspaces/{ws}/tree/{urllib.parse.quote(rel)}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=START * 1000)
    PAGE.wait_idle(page, timeout=START * 1000)


def wait_for(check: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            value = check()
            if value:
                return value
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(nb: Path) -> dict[str, Any]:
    return {k: e.get("v") for k, e in read_journal(journal_path(nb)).answers().items()}


def type_into(page: Any, prompt: str, text: str) -> None:
    box = page.locator(f".sk-prompt-{prompt} textarea").first
    box.click()
    box.fill(text)
    box.press("End")  # a keystroke event, as a person typing would send


def sign_button(page: Any, role: str) -> None:
    page.get_by_role("button", name=f"Sign as {role}").click()


# ---------------------------------------------------------------- the scenario


def test_programme_on_jupyterhub(hub: Hub, browser: Any) -> None:
    contexts: list[Any] = []
    real = browser.new_context

    def tracked(**kw: Any) -> Any:
        ctx = real(**kw)
        contexts.append(ctx)
        return ctx

    browser.new_context = tracked
    try:
        scenario(hub, browser)
    except BaseException:
        shots = hub.base / "screenshots"
        shots.mkdir(exist_ok=True)
        for i, ctx in enumerate(contexts):
            for j, pg in enumerate(ctx.pages):
                with contextlib.suppress(Exception):
                    pg.screenshot(path=str(shots / f"FAILED-{i}-{j}.png"), full_page=True)
        print(f"screenshots of the failure: {shots} (SUPERVISION_KIT_KEEP_HUB=1 keeps them)")
        print("hub log:\n" + hub.log.read_text()[-6000:])
        raise
    finally:
        browser.new_context = real
        for ctx in contexts:
            with contextlib.suppress(Exception):
                ctx.close()


def scenario(hub: Hub, browser: Any) -> None:
    t0 = time.monotonic()
    users, pair = hub.users, hub.pair
    worker, supervisor, third = users["worker"], users["supervisor"], users["third"]
    folder = hub.srv / "pairs" / pair.folder

    # 1. the worker: nbgitpuller link -> launcher -> workbook in the pair folder
    wctx, wpage = login(browser, hub, worker)
    assert (folder.stat().st_mode & 0o7777) == 0o2770
    assert folder.group() == pair.group
    wpage.goto(hub.pull_link("START.ipynb"))
    wpage.wait_for_url(re.compile(r"/lab/tree/supervision-templates/START\.ipynb"),
                       timeout=START * 1000)
    wpage.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=START * 1000)
    home = Path(pwd.getpwnam(worker).pw_dir)
    assert (home / "supervision-templates" / "templates" / "prompts" / "hubsession.yaml").is_file()
    PAGE.wait_idle(wpage, timeout=START * 1000)
    PAGE.menu(wpage, "Run", "Run All Cells")
    wpage.locator(".sk-launcher-create").wait_for(timeout=START * 1000)
    wpage.get_by_placeholder(re.compile("pseudonymous codes")).fill(CASE)
    wpage.locator(".widget-dropdown select").nth(1).select_option("hubsession")
    wpage.locator(".sk-launcher-create").click()
    link = wpage.locator(".sk-launcher-result a.sk-open-workbook")
    link.wait_for(timeout=60_000)
    href = link.get_attribute("href")
    assert href and href.startswith(f"/user/{worker}/lab/tree/supervision/with-{supervisor}/")
    [nb] = list(folder.glob(f"{CASE}/*-hubsession.ipynb"))
    assert (nb.stat().st_mode & 0o777) == 0o660 and (nb.parent.stat().st_mode & 0o7777) == 0o2770
    assert nb.owner() == worker and nb.group() == pair.group
    rel = urllib.parse.unquote(href.split("/lab/tree/", 1)[1])
    # follow the link (in a workspace of its own, so Run All cannot reach the launcher)
    open_notebook(wpage, hub, worker, rel)
    PAGE.run_all(wpage, "story")
    type_into(wpage, "story", STORY)
    t_typed = time.monotonic()
    wait_for(lambda: answers(nb).get("story") == STORY, "the answer in the journal", 10)
    REPORT["hub: keystroke to journal on the hub (s)"] = round(time.monotonic() - t_typed, 2)

    # ...and cannot sign as the supervisor (checked in the kernel, by the hub account)
    wpage.locator(".jp-Notebook").get_by_text("you can sign as the worker").wait_for()
    sign_button(wpage, "supervisor")
    wpage.get_by_text(re.compile(rf"signed in to the hub as '{worker}', but the supervisor "
                                 rf"of this record is '{supervisor}'")).wait_for()
    assert not [e for e in read_journal(journal_path(nb)).events if e.get("type") == "sign"]

    # 2. stopped as the idle culler stops it: the answer is already on disk
    hub.stop_server(worker)
    assert answers(nb)["story"] == STORY
    wctx.close()

    # 3. the supervisor opens the same record from the shared folder, adds feedback, signs
    sctx, spage = login(browser, hub, supervisor)
    srel = f"supervision/{worker}/{CASE}/{nb.name}"
    open_notebook(spage, hub, supervisor, srel)
    PAGE.run_all(spage, "feedback")
    assert spage.locator(".sk-prompt-story textarea").first.input_value() == STORY
    type_into(spage, "feedback", FEEDBACK)
    wait_for(lambda: answers(nb).get("feedback") == FEEDBACK, "the feedback in the journal", 10)
    # JupyterLab's own save (and its checkpoint) in the worker's folder works for the
    # supervisor: the default ACL keeps what Jupyter writes group-writable
    PAGE.save(spage)
    assert nb.group() == pair.group and (nb.stat().st_mode & 0o777) == 0o660
    if shutil.which("getfacl"):
        acl = _run("getfacl", "-p", folder).stdout
        assert "default:group::rwx" in acl and "default:other::---" in acl
        checkpoints = nb.parent / ".ipynb_checkpoints"
        if checkpoints.exists():
            assert checkpoints.group() == pair.group
            assert (checkpoints.stat().st_mode & 0o070) == 0o070
            assert (checkpoints.stat().st_mode & 0o007) == 0
    else:
        REPORT["hub: default ACL"] = "not checked (no setfacl/getfacl: apt-get install acl)"
    sign_button(spage, "supervisor")
    spage.get_by_text(re.compile("Signed as supervisor")).wait_for()
    [sig] = [e for e in read_journal(journal_path(nb)).events if e.get("type") == "sign"]
    assert sig["role"] == "supervisor" and sig["hub_user"] == supervisor
    assert sig["ssh_signature"].startswith("-----BEGIN SSH SIGNATURE-----")

    # the worker signs too: locked; the hub-managed keys verify both signatures
    wctx, wpage = login(browser, hub, worker)
    open_notebook(wpage, hub, worker, rel)
    PAGE.run_all(wpage, "story")
    sign_button(wpage, "worker")
    wpage.get_by_text(re.compile("Locked: signed by")).first.wait_for()
    allowed = hub.srv / "allowed_signers"
    code, out, err = run_cli("verify", nb, "--allowed-signers", allowed)
    assert code == 0, out + err
    assert f"SSH signature is good for '{worker}'" in out
    assert f"SSH signature is good for '{supervisor}'" in out
    # the keys are private to each OS user
    key = Path(pwd.getpwnam(supervisor).pw_dir) / ".ssh" / "supervision-kit_ed25519"
    assert (key.stat().st_mode & 0o777) == 0o600 and key.owner() == supervisor

    # 4. a third user: not through their server, not on the OS
    tctx, tpage = login(browser, hub, third)
    peek = Path(pwd.getpwnam(third).pw_dir) / "peek"
    peek.symlink_to(folder)
    os.lchown(peek, pwd.getpwnam(third).pw_uid, pwd.getpwnam(third).pw_gid)
    for path in (f"supervision/{worker}/{CASE}/{nb.name}", f"peek/{CASE}/{nb.name}"):
        status = tpage.evaluate(
            "async (p) => (await fetch(p, {credentials: 'same-origin'})).status",
            f"/user/{third}/api/contents/{urllib.parse.quote(path)}?content=1")
        assert status in (403, 404, 500), (path, status)
    denied = subprocess.run(["runuser", "-u", third, "--", "cat", str(nb)],
                            capture_output=True, text=True, timeout=30)
    assert denied.returncode != 0 and "Permission denied" in denied.stderr
    tctx.close()

    # 5. a template update through the same link keeps the worker's edit and the record
    before = hashlib.sha256(journal_path(nb).read_bytes()).hexdigest()
    readme = home / "supervision-templates" / "README.md"
    readme.write_text(readme.read_text() + "\nMy own note: bring the school's letter.\n")
    os.chown(readme, pwd.getpwnam(worker).pw_uid, pwd.getpwnam(worker).pw_gid)
    work = hub.work
    (work / "templates" / "prompts" / "hubsession.yaml").write_text(
        HUBSESSION.replace('title: Supervision session (hub)', 'title: Supervision session'))
    (work / "WHATS-NEW.md").write_text("Version 2 of the templates.\n")
    git = ["git", "-c", "user.name=Programme admin", "-c", "user.email=admin@example.org"]
    _run(*git, "-C", work, "add", "-A")
    _run(*git, "-C", work, "commit", "-q", "-m", "templates v2")
    _run("git", "-C", work, "push", "-q", "origin", "main")
    wpage.goto(hub.pull_link("START.ipynb"))
    wpage.wait_for_url(re.compile(r"/lab/tree/supervision-templates/START\.ipynb"),
                       timeout=START * 1000)
    clone = home / "supervision-templates"
    wait_for(lambda: (clone / "WHATS-NEW.md").is_file(), "the pulled update", 60)
    assert "My own note" in readme.read_text()
    assert "title: Supervision session\n" in (clone / "templates" / "prompts" /
                                                "hubsession.yaml").read_text()
    assert hashlib.sha256(journal_path(nb).read_bytes()).hexdigest() == before
    assert answers(nb) == {"story": STORY, "feedback": FEEDBACK}
    wctx.close()
    sctx.close()
    REPORT["hub: whole scenario (s)"] = round(time.monotonic() - t0, 1)
