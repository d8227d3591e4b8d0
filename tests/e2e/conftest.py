"""Session fixtures for the browser tests: one JupyterLab server and one Chromium.

The server listens on 127.0.0.1 with a random port and token; its root is a temporary store and
every Jupyter directory it writes (workspaces, settings, runtime, config, IPython) lives in the
session's temp dir. ``JUPYTER_DATA_DIR`` is the one tests/conftest.py sets for the session:
generated workbooks are signed there, so the server trusts them and renders their widgets.

Without Chromium (or Playwright) the tests skip with the reason; with ``CI=true`` they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from supervision_kit.core.journal import read_journal
from supervision_kit.core.markers import kernel_marker
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import load_notebook
from supervision_kit.launch.lab import with_base_data

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage"]
START_TIMEOUT = 90.0  # s, server start (cold imports on a slow CI machine)
UI_TIMEOUT = 45_000  # ms, default for every Playwright wait
VIEWPORT = {"width": 1100, "height": 850}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


REPORT: dict[str, Any] = {}  # measurements the tests record, printed in the summary
_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    tr = terminalreporter
    tr.section("supervision-kit end-to-end measurements")
    for key, value in REPORT.items():
        tr.write_line(f"{key}: {value}")
    tr.write_line(f"wall time since the e2e conftest loaded: {time.monotonic() - _STARTED:.1f} s")


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> None:
    """Poll ``url`` until it answers 200; fail early with the log if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    pytest.fail(f"server did not answer {url} within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen, timeout: float = 20.0,
         shutdown: Callable[[], Any] | None = None) -> None:
    """Stop a server: its clean shutdown (``shutdown()``, else SIGTERM), then SIGKILL."""
    if proc.poll() is not None:
        return
    try:
        if shutdown is None:
            proc.terminate()
        else:
            shutdown()
        proc.wait(timeout=timeout)
    except Exception:  # noqa: BLE001 - any failure ends in a hard stop
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            proc.wait(timeout=timeout / 2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout / 2)


def quiet_lab_settings(settings: Path) -> None:
    """No news/update toasts over the page."""
    d = settings / "@jupyterlab" / "apputils-extension"
    d.mkdir(parents=True, exist_ok=True)
    (d / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))


def isolated_env(base: Path) -> dict[str, str]:
    """Environment for a server: Jupyter's writable dirs under ``base``."""
    env = dict(os.environ)
    for var, sub in (("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                     ("IPYTHONDIR", "ipython")):
        (base / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(base / sub)
    env.pop("SUPERVISION_KIT_STORE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return with_base_data(env)  # a --system-site-packages venv: the widget extension etc.


# ---------------------------------------------------------------- the JupyterLab server


class Lab:
    """A running JupyterLab server plus the page actions the scenarios share."""

    def __init__(self, url: str, token: str, root: Path, proc: subprocess.Popen, log: Path,
                 shots: Path) -> None:
        self.url, self.token, self.root, self.proc, self.log = url, token, root, proc, log
        self.shots = shots
        self._n = 0

    # -- REST
    def api(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> None:
        """Shut down every kernel (as a user closing the workbook for good would)."""
        for k in self.api("GET", "/api/kernels"):
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{k['id']}")

    # -- pages
    def open(self, page: Any, nb: Path) -> None:
        """Open a workbook in a fresh workspace and wait for its kernel to be idle."""
        self._n += 1
        rel = urllib.parse.quote(nb.relative_to(self.root).as_posix())
        page.goto(f"{self.url}/lab/workspaces/t{self._n}/tree/{rel}?token={self.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook")
        self.wait_idle(page)

    def wait_idle(self, page: Any, timeout: float = UI_TIMEOUT) -> None:
        """Wait until the status bar says the current notebook's kernel is idle.

        (The toolbar's execution indicator reads 'idle' before a kernel even exists, and Run All
        without a kernel opens the Select Kernel dialog.)
        """
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$")).wait_for(
            timeout=timeout)

    def menu(self, page: Any, menu: str, item: str) -> None:
        page.locator(f".lm-MenuBar-itemLabel:text-is('{menu}')").click()
        page.locator(f".lm-Menu-itemLabel:text-is('{item}')").click()

    def run_all(self, page: Any, first: str) -> None:
        """Run ▸ Run All Cells once the kernel is idle; wait for prompt ``first`` to render."""
        self.wait_idle(page)
        self.menu(page, "Run", "Run All Cells")
        page.locator(f".sk-prompt-{first}").first.wait_for(state="attached")
        self.wait_idle(page)

    def save(self, page: Any) -> None:
        """File ▸ Save Notebook (a focused widget swallows Ctrl+S); wait until it is clean."""
        self.menu(page, "File", "Save Notebook")
        page.wait_for_selector(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty",
                               state="detached")

    def _answer_dialog(self, page: Any, buttons: str, timeout: float = 3000) -> None:
        """Click the button (regex of labels) of a JupyterLab dialog, if one shows up."""
        dialog = page.locator(".jp-Dialog")
        with contextlib.suppress(Exception):
            dialog.wait_for(state="visible", timeout=timeout)
            dialog.locator(".jp-Dialog-button").filter(
                has_text=re.compile(f"^({buttons})$")).click()
            dialog.wait_for(state="detached", timeout=timeout)

    def close_tab(self, page: Any, save: bool = False) -> None:
        """File ▸ Close Tab; answer the 'Save your work' dialog if the notebook is dirty."""
        self.menu(page, "File", "Close Tab")
        self._answer_dialog(page, "Save" if save else "Don't Save|Discard")
        page.wait_for_selector(".jp-NotebookPanel", state="detached")

    def close_and_shut_down(self, page: Any, nb: Path) -> None:
        """File ▸ Close and Shut Down Notebook; wait for the kernel to let go of ``nb``."""
        page.locator(".lm-MenuBar-itemLabel:text-is('File')").click()
        page.locator(".lm-Menu-itemLabel").filter(
            has_text=re.compile(r"^Close and Shut Down Notebook")).click()
        self._answer_dialog(page, "Shut Down|Ok|OK")
        self._answer_dialog(page, "Don't Save|Discard", timeout=1500)
        page.wait_for_selector(".jp-NotebookPanel", state="detached")
        deadline = time.monotonic() + 30
        while kernel_marker(nb).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not kernel_marker(nb).exists(), "the kernel did not close the workbook"

    def shot(self, page: Any, name: str) -> Path:
        """Save a PNG of the page into the session's screenshot folder."""
        path = self.shots / f"{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of Debian's Chromium and a usable Playwright, else skip (fail under CI=true)."""
    reason = ""
    exe = shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "the Python package 'playwright' is not installed (pip install -e '.[test]')"
    if not exe:
        reason = "Chromium is not installed (apt-get install -y chromium; scripts/test.sh does it)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    return exe


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def shots_dir(e2e_dir) -> Iterator[Path]:
    """Screenshots land here; set SUPERVISION_KIT_SCREENSHOTS=docs/img to copy them there too."""
    d = e2e_dir / "screenshots"
    d.mkdir()
    yield d
    dest = os.environ.get("SUPERVISION_KIT_SCREENSHOTS")
    if dest:
        Path(dest).mkdir(parents=True, exist_ok=True)
        for png in sorted(d.glob("[!F]*.png")):  # not the FAILED-* ones
            small_png(png, Path(dest) / png.name)


def small_png(src: Path, dest: Path) -> None:
    """Copy a screenshot as a 256-colour PNG (a fraction of the size, fine for UI shots)."""
    try:
        from PIL import Image
    except ImportError:
        shutil.copy2(src, dest)
        return
    with Image.open(src) as im:
        im.convert("RGB").quantize(colors=256).save(dest, optimize=True)


@pytest.fixture(scope="session")
def lab(chromium, e2e_dir, shots_dir) -> Iterator[Lab]:
    """A JupyterLab server for the whole session, stopped cleanly at the end."""
    root = e2e_dir / "store"
    root.mkdir()
    base = e2e_dir / "lab"
    env = isolated_env(base)
    quiet_lab_settings(base / "settings")
    port, token = free_port(), secrets.token_hex(24)
    log = base / "server.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--ServerApp.allow_root=True", "--LabApp.extension_manager=readonly"]
    with log.open("w") as fh:
        proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=root,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    server = Lab(url, token, root, proc, log, shots_dir)
    try:
        wait_http(f"{url}/api/status?token={token}", proc, log)
        yield server
    finally:
        stop(proc, shutdown=lambda: server.api("POST", "/api/shutdown"))
    assert proc.returncode == 0, log.read_text()[-3000:]


@pytest.fixture(scope="session")
def browser(chromium) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def context(browser) -> Iterator[Any]:
    """One browser context for the session, so JupyterLab's scripts are cached after the first
    page; each test still opens its own page and its own JupyterLab workspace."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(UI_TIMEOUT)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, shots_dir, request) -> Iterator[Any]:
    """A fresh tab; records JavaScript dialogs in ``page.dialogs`` (and dismisses them)."""
    p = context.new_page()
    dialogs: list[str] = []

    def on_dialog(d: Any) -> None:
        dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    p.on("dialog", on_dialog)
    p.dialogs = dialogs
    yield p
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:  # keep what the browser showed, for the CI log
        with contextlib.suppress(Exception):
            path = shots_dir / f"FAILED-{request.node.name}.png"
            p.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failure: {path}")
    p.close()
    if "lab" in request.fixturenames:  # the next test starts with no kernel running
        with contextlib.suppress(Exception):
            request.getfixturevalue("lab").shutdown_kernels()


@pytest.fixture
def lab_workbook(lab, request) -> Callable[..., Path]:
    """Generate a workbook inside the server's root (fixture template ``kinds`` by default)."""
    from supervision_kit.generate.render import new_workbook
    from tests.helpers import FIXTURE_TEMPLATES

    def make(case: str | None = None, template: str = "kinds", **kw: Any) -> Path:
        case = case or "e2e-" + request.node.name.removeprefix("test_")[:20].replace("_", "-")
        kw.setdefault("worker", "W. Test")
        kw.setdefault("supervisor", "S. Test")
        kw.setdefault("date", "2026-03-02")
        if template == "kinds":
            kw.setdefault("templates", str(FIXTURE_TEMPLATES))
        return new_workbook(case_id=case, template=template, store=lab.root, **kw)

    return make


# ---------------------------------------------------------------- reading what is on disk


def mirror(page: Any, nb: Path, pid: str) -> Any:
    """The rendered answer mirror of ``pid``: a section's cell shows its prompts' widgets in one
    output, then one mirror output per prompt, in the section's order."""
    from tests.helpers import answer_cell, cell_prompts

    at = cell_prompts(answer_cell(load_notebook(nb), pid)).index(pid)
    return page.locator(f".jp-Cell:has(.sk-prompt-{pid}) "
                        ".jp-OutputArea-child:has(.jp-RenderedMarkdown)").nth(at) \
        .locator(".jp-RenderedMarkdown blockquote")


def printed_url(proc: subprocess.Popen, log: Path, pattern: str, timeout: float) -> str:
    """The address a launcher prints into ``log`` (group 1 of ``pattern``), once it does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        m = re.search(pattern, log.read_text())
        if m:
            return m.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no address printed within {timeout:g} s:\n{log.read_text()[-3000:]}")


def journal_answers(nb: Path) -> dict[str, Any]:
    """The answers the journal beside ``nb`` holds right now."""
    return {pid: ev.get("v") for pid, ev in read_journal(journal_path(nb)).answers().items()}


def wait_journal(nb: Path, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0,
                 poll: float = 0.01) -> tuple[dict[str, Any], float]:
    """Poll the journal until ``check(answers)``; return the answers and the seconds it took."""
    t0 = time.monotonic()
    answers: dict[str, Any] = {}
    while time.monotonic() - t0 < timeout:
        answers = journal_answers(nb)
        if check(answers):
            return answers, time.monotonic() - t0
        time.sleep(poll)
    pytest.fail(f"journal of {nb.name} did not reach the expected state in {timeout} s: "
                f"{answers!r}")


def kernel_pid(nb: Path, timeout: float = 30.0) -> int:
    """PID of the kernel that has ``nb`` open (from the marker the kernel writes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return int(json.loads(kernel_marker(nb).read_text())["pid"])
        time.sleep(0.1)
    pytest.fail(f"no kernel marker for {nb.name}")


def cli_answers(nb: Path) -> dict[str, Any]:
    """``supervision-kit responses NB`` run for real: the answers it prints."""
    from tests.helpers import run_cli

    code, out, err = run_cli("responses", nb)
    assert code == 0, err
    return json.loads(out)["answers"]


@contextlib.contextmanager
def app_server(nb: Path, base: Path) -> Iterator[str]:
    """``supervision-kit app NB --no-browser`` running (app mode, Voila); yields its URL and
    stops it (SIGINT, as a person's Ctrl+C) afterwards. Every wait has a timeout."""
    import signal

    port = free_port()
    log = base / "app.log"
    env = isolated_env(base)
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "supervision_kit", "app", str(nb), "--port", str(port),
             "--no-browser"], env=env, stdout=fh, stderr=subprocess.STDOUT)
    try:
        yield printed_url(proc, log, r"in app mode: (http://127\.0\.0\.1:\d+/\?token=\S+)",
                          START_TIMEOUT)
    finally:
        stop(proc, shutdown=lambda: proc.send_signal(signal.SIGINT))
        assert proc.returncode == 0, log.read_text()[-3000:]
