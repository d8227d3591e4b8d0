"""App mode: one workbook as a plain web page, without code or notebook menus (Voila).

Voila runs the workbook in a fresh kernel for every visit and shows only its outputs: the
header, the prompts as widgets and the saved-answer mirrors. Capture is unchanged (every change
goes to the journal beside the workbook), so a visit can end at any time without losing answers.

Because each visit (and each reload) starts a kernel, idle kernels are culled: a kernel whose
page is gone and which has been idle for ``cull_idle`` seconds is shut down (checked every
``CULL_INTERVAL`` s). A page that is still open keeps its kernel (``cull_connected`` stays off).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import webbrowser
from pathlib import Path

from ..core.errors import InputError, KitError
from .lab import hide_globs_arg, with_base_data

CULL_IDLE = 900  # s: idle kernels whose page has closed are shut down after 15 minutes
CULL_INTERVAL = 60  # s: how often Voila looks for them
START_TIMEOUT = 90  # s


def voila_command(workbook: Path, *, port: int, token: str,
                  cull_idle: int = CULL_IDLE) -> list[str]:
    """The Voila command line that serves ``workbook`` from its own folder on 127.0.0.1."""
    args = [
        sys.executable, "-m", "voila", workbook.name,
        "--no-browser", f"--port={port}", "--Voila.port_retries=0",
        "--Voila.ip=127.0.0.1", f"--Voila.root_dir={workbook.parent}",
        f"--Voila.token={token}",
        "--strip_sources=True", "--show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL}",
        "--MappingKernelManager.cull_connected=False",
        hide_globs_arg(),
    ]
    return args


def app_url(port: int, token: str) -> str:
    return f"http://127.0.0.1:{port}/?token={token}"


def run_app(workbook: str | os.PathLike[str], *, port: int = 8866, browser: bool = True,
            cull_idle: int = CULL_IDLE) -> int:
    """Serve one workbook in app mode until Ctrl+C; returns Voila's exit code."""
    path = Path(workbook).resolve()
    if not path.is_file() or path.suffix != ".ipynb":
        raise InputError(f"{workbook}: not a workbook (.ipynb)")
    try:
        import voila  # noqa: F401
    except ImportError:
        raise KitError("app mode needs Voila: pip install 'supervision-kit[app]'") from None
    token = secrets.token_urlsafe(24)
    if threading.current_thread() is threading.main_thread():  # SIGTERM also stops Voila
        signal.signal(signal.SIGTERM, _terminated)
    proc = subprocess.Popen(voila_command(path, port=port, token=token, cull_idle=cull_idle),
                            cwd=path.parent, env=with_base_data(dict(os.environ)))
    url = app_url(port, token)
    try:
        _wait_ready(proc, port)
        print(f"{path.name} in app mode: {url}\n(answers are saved as you type; "
              "Ctrl+C stops the app)", flush=True)
        if browser:
            webbrowser.open(url)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(proc)


def _terminated(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _wait_ready(proc: subprocess.Popen, port: int) -> None:
    """Wait until Voila accepts connections (a page request would start a kernel)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KitError(f"Voila exited with code {proc.returncode} (is port {port} free?)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise KitError(f"Voila did not start within {START_TIMEOUT} s")


def _stop(proc: subprocess.Popen) -> None:
    """Stop Voila (its SIGTERM handler shuts the kernels down, which flushes the journal)."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
