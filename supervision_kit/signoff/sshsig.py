"""Signatures with ordinary SSH keys: ``ssh-keygen -Y sign`` / ``-Y verify`` (as git does).

``sign --key PATH`` signs the signature event's canonical content — every field of the event
except ``seq``, ``prev``, ``h`` (the journal adds those when it writes the line) and the SSH
signature itself — in the namespace ``supervision-kit``, and stores the armored signature in
the event as ``ssh_signature``. The content includes the role, the name, the ``principal``
(the identity the key belongs to: the hub account when signed on a hub, else the ``--name``),
the time, the workbook id, the template and the SHA-256 of every answer, so a changed answer,
another record or another person makes the signature fail.

``verify --allowed-signers FILE`` checks each signature with ``ssh-keygen -Y verify`` against a
file in git's allowed-signers format (``principal [namespaces="supervision-kit"] keytype
base64``; quote principals that contain spaces). A passphrase-protected key needs an agent:
load it with ``ssh-add`` and give the ``.pub`` file as ``--key``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..core.errors import InputError, KitError
from ..core.journal import canonical

NAMESPACE = "supervision-kit"
SIGNATURE = "ssh_signature"
ENV_KEY = "SUPERVISION_KIT_SIGNING_KEY"  # default --key (the hub's per-user key)
UNSIGNED = ("seq", "prev", "h", SIGNATURE)  # fields not covered by the SSH signature
TIMEOUT = 30
PUBLIC_KEY = re.compile(r"(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+) "
                        r"[A-Za-z0-9+/]+=*( [^\n]*)?$")
ACCOUNT_ROLES = ("worker", "supervisor")
_ARMOR = re.compile(r"-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+-----END SSH SIGNATURE-----"
                    r"\n?")


def payload(event: dict[str, Any]) -> bytes:
    """The bytes an SSH signature covers: the event's canonical JSON without UNSIGNED."""
    return canonical({k: v for k, v in event.items() if k not in UNSIGNED}).encode("utf-8")


def ssh_keygen() -> str:
    exe = shutil.which("ssh-keygen")
    if not exe:
        raise KitError("ssh-keygen is not installed (Debian: apt-get install openssh-client); "
                       "it is needed to sign or verify with SSH keys")
    return exe


def _run(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([ssh_keygen(), *args], input=data, capture_output=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise KitError(f"ssh-keygen did not finish within {TIMEOUT} s (waiting for a "
                       "passphrase? load the key with ssh-add and pass its .pub file)") from None


def _first_line(raw: bytes) -> str:
    lines = [ln for ln in raw.decode("utf-8", "replace").splitlines()
             if ln.strip() and not ln.startswith("Signing data on standard input")]
    return lines[0].strip() if lines else "no message"


def key_path(key: str | os.PathLike[str] | None) -> Path | None:
    """The key to sign with: ``key``, else ``$SUPERVISION_KIT_SIGNING_KEY``, else None."""
    value = key or os.environ.get(ENV_KEY)
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_file():
        raise InputError(f"{p}: no such key file (give the private key, or its .pub file with "
                         "the key loaded in ssh-agent)")
    return p


def fingerprint(key: Path) -> str:
    """``SHA256:…`` of a key file (private or public)."""
    res = _run(["-l", "-f", str(key)], b"")
    if res.returncode != 0:
        raise InputError(f"{key}: not a usable SSH key ({_first_line(res.stderr)})")
    parts = res.stdout.decode().split()
    return parts[1] if len(parts) > 1 else ""


def sign_event(event: dict[str, Any], key: Path) -> dict[str, Any]:
    """The event with ``key_fingerprint`` and ``ssh_signature`` added (``t`` must be set)."""
    if "t" not in event:
        raise ValueError("sign_event needs the event's time")
    ev = {**event, "key_fingerprint": fingerprint(key)}
    res = _run(["-Y", "sign", "-f", str(key), "-n", NAMESPACE], payload(ev))
    sig = res.stdout.decode("ascii", "replace")
    if res.returncode != 0 or not _ARMOR.fullmatch(sig):
        raise KitError(f"ssh-keygen could not sign with {key}: {_first_line(res.stderr)}")
    return {**ev, SIGNATURE: sig}


def principal_of(event: dict[str, Any]) -> str:
    """The identity an SSH signature must belong to: the hub account, else the name."""
    return str(event.get("hub_user") or event.get("name") or "")


def check_event(event: dict[str, Any], allowed_signers: Path) -> str | None:
    """None when the event carries a good signature by its principal's key, else a problem."""
    who = f"the {event.get('role')}'s signature"
    sig = event.get(SIGNATURE)
    if not isinstance(sig, str) or not sig:
        return f"{who} has no SSH signature (it was not signed with a key)"
    principal = principal_of(event)
    if event.get("principal") != principal:
        return (f"{who} names the key principal {event.get('principal')!r}, but was made by "
                f"{principal!r}")
    with tempfile.TemporaryDirectory(prefix="sk-verify-") as tmp:
        sig_file = Path(tmp) / "event.sig"
        sig_file.write_text(sig if sig.endswith("\n") else sig + "\n", encoding="ascii",
                            errors="replace")
        res = _run(["-Y", "verify", "-f", str(allowed_signers), "-I", principal,
                    "-n", NAMESPACE, "-s", str(sig_file)], payload(event))
    if res.returncode != 0:
        return (f"{who} ({principal!r}) is not a valid SSH signature by a key allowed for "
                f"that principal: {_first_line(res.stderr + res.stdout)}")
    return None


def check_allowed_signers(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such allowed-signers file")
    return p


def allowed_signers_line(principal: str, public_key: str) -> str:
    """One line of an allowed-signers file (the principal quoted when it has spaces)."""
    parts = public_key.split()
    if not PUBLIC_KEY.match(public_key.strip()):
        raise InputError(f"not an SSH public key: {public_key[:40]!r}")
    if not principal or '"' in principal or "\n" in principal:
        raise InputError(f"principal {principal!r} cannot be empty or contain a double quote")
    who = f'"{principal}"' if re.search(r"[\s,*?!]", principal) else principal
    return f'{who} namespaces="{NAMESPACE}" {parts[0]} {parts[1]}'


def signers_from_agreement(path: str | os.PathLike[str]) -> list[str]:
    """Allowed-signers lines from the SSH public keys recorded in a supervision agreement.

    A key is an answer that is one SSH public-key line (recognised by its form, never by
    prompt id), given to a prompt whose ``role`` is worker or supervisor. Each key is allowed
    for the name the agreement gives that person and, when it names one, their hub account.
    """
    from ..core.workbook import open_record

    rec = open_record(path)
    out: list[str] = []
    for pid, value in rec.answers.items():
        prompt = rec.prompts.get(pid, {})
        role = prompt.get("role", "worker")
        if role not in ACCOUNT_ROLES or not isinstance(value, str) \
                or not PUBLIC_KEY.match(value.strip()):
            continue
        for who in (rec.info.get(role), rec.info.get(f"{role}_user")):
            if who:
                line = allowed_signers_line(str(who), value.strip())
                if line not in out:
                    out.append(line)
    return out
