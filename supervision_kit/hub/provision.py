"""Hub side (runs as root in the JupyterHub process): pair folders, groups and signing keys.

``pre_spawn_hook(settings)`` gives JupyterHub a hook that, before a user's server starts:

1. creates each of the user's pair folders (``<root>/pairs/<worker>--<supervisor>``) owned by
   ``root:<pair group>``, mode 2770 (setgid: new files get the pair's group) with a default
   ACL ``group::rwx, other::---`` (so files JupyterLab itself saves, with its 0644/0755 and the
   user's umask, are still group-writable and never world-readable); ``<root>/pairs`` is 0711,
   so nobody can list which pairs exist;
2. adds the user's OS account to each pair's group (LocalProcessSpawner and systemd apply the
   groups when the server starts);
3. links each pair folder into ``~/supervision/<label>`` and writes the user's own pairs to
   ``~/supervision/.pairs.json`` (what the launcher notebook offers);
4. optionally gives the user an SSH signing key (``~/.ssh/supervision-kit_ed25519``, made as
   that user, never readable by anyone else) and adds its public key to the programme's
   allowed-signers file (``<root>/allowed_signers``, root-owned, principal = hub account);
5. sets the server's environment: ``SUPERVISION_KIT_SHARED_MODE=group`` (the kit creates its
   files 0660/2770 inside group folders), the pairs file, the signing key, the store.

Standard library only (the hub's environment needs ``pip install --no-deps supervision-kit``).
``python -m supervision_kit.hub.provision --pairs FILE`` does steps 1-4 for every user now.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .pairs import MY_PAIRS, Pair, my_pairs_json, pairs_of, read_pairs

if TYPE_CHECKING:
    import pwd

log = logging.getLogger("supervision_kit.hub")
# grp, pwd and fcntl exist on POSIX only: imported where used (the hub runs on Linux)
KEY_NAME = "supervision-kit_ed25519"
TIMEOUT = 60


@dataclass
class HubSettings:
    root: Path = Path("/srv/supervision-kit")
    pairs_file: Path | None = None  # default <root>/pairs.csv
    os_user: str = "jupyter-{username}"  # The Littlest JupyterHub's system user names
    create_users: bool = False  # create a missing OS user (TLJH makes them at first spawn)
    signing_keys: bool = True
    acl: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def pairs_path(self) -> Path:
        return self.pairs_file or self.root / "pairs.csv"

    @property
    def allowed_signers(self) -> Path:
        return self.root / "allowed_signers"


def _run(*cmd: str) -> None:
    subprocess.run(list(cmd), check=True, capture_output=True, timeout=TIMEOUT)


def ensure_group(name: str) -> int:
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        _run("groupadd", name)
        return grp.getgrnam(name).gr_gid


def ensure_member(group: str, os_user: str) -> None:
    import grp

    if os_user not in grp.getgrnam(group).gr_mem:
        _run("usermod", "-a", "-G", group, os_user)


def os_account(settings: HubSettings, user: str) -> pwd.struct_passwd | None:
    import pwd

    name = settings.os_user.format(username=user)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        if not settings.create_users:
            return None
    _run("useradd", "--create-home", "--shell", "/bin/bash", name)
    pw = pwd.getpwnam(name)
    os.chmod(pw.pw_dir, 0o700)
    return pw


def ensure_pair_folder(settings: HubSettings, pair: Pair) -> Path:
    """The pair's folder: root:<group>, 2770, default ACL (see the module docstring)."""
    top = settings.root / "pairs"
    top.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.root, 0o711)
    os.chmod(top, 0o711)
    gid = ensure_group(pair.group)
    folder = top / pair.folder
    folder.mkdir(exist_ok=True)
    os.chown(folder, 0, gid)
    os.chmod(folder, 0o2770)
    if settings.acl:
        setfacl = shutil.which("setfacl")
        if setfacl:
            _run(setfacl, "-m", "u::rwx,g::rwx,o::---", "-d", "-m", "u::rwx,g::rwx,o::---",
                 str(folder))
        else:
            log.warning("setfacl not found (apt-get install acl): files JupyterLab saves in %s "
                        "follow the users' umask", folder)
    return folder


def _own(path: Path, pw: pwd.struct_passwd) -> None:
    os.lchown(path, pw.pw_uid, pw.pw_gid)


def link_pairs(settings: HubSettings, pw: pwd.struct_passwd, user: str,
               pairs: list[Pair]) -> Path:
    """~/supervision/<label> -> each pair folder, and ~/supervision/.pairs.json."""
    home = Path(pw.pw_dir)
    sup = home / "supervision"
    if sup.is_symlink():
        sup.unlink()
    sup.mkdir(exist_ok=True)
    _own(sup, pw)
    os.chmod(sup, 0o700)
    for p in pairs:
        link = sup / p.label_for(user)
        target = settings.root / "pairs" / p.folder
        if link.is_symlink() and os.readlink(link) == str(target):
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            log.warning("%s exists and is not a link; leaving it", link)
            continue
        link.symlink_to(target)
        _own(link, pw)
    mine = sup / MY_PAIRS
    tmp = sup / f".{MY_PAIRS}.tmp"
    tmp.write_text(my_pairs_json(pairs, user, settings.root), encoding="utf-8")
    os.chmod(tmp, 0o600)
    _own(tmp, pw)
    os.replace(tmp, mine)
    return mine


def ensure_signing_key(settings: HubSettings, pw: pwd.struct_passwd, user: str) -> Path:
    """The user's own signing key (made as that user), allowed for ``user`` in the
    programme's allowed-signers file."""
    import fcntl

    from ..signoff.sshsig import allowed_signers_line

    ssh = Path(pw.pw_dir) / ".ssh"
    if not ssh.is_dir():
        ssh.mkdir(mode=0o700)
        _own(ssh, pw)
    key = ssh / KEY_NAME
    if not key.exists():
        _run("runuser", "-u", pw.pw_name, "--", "ssh-keygen", "-q", "-t", "ed25519", "-N", "",
             "-C", f"{user}@supervision-kit", "-f", str(key))
    line = allowed_signers_line(user, key.with_suffix(".pub").read_text(encoding="utf-8"))
    allowed = settings.allowed_signers
    fd = os.open(allowed, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.fchown(fd, 0, 0)
        os.fchmod(fd, 0o644)
        with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as fh:
            if line not in fh.read().splitlines():
                fh.seek(0, os.SEEK_END)
                fh.write(line + "\n")
    finally:
        os.close(fd)
    return key


def provision_user(settings: HubSettings, user: str) -> dict[str, str]:
    """Steps 1-4 of the module docstring for one hub user; the environment for step 5."""
    import pwd

    pairs = read_pairs(settings.pairs_path)
    mine = pairs_of(pairs, user)
    pw = os_account(settings, user)
    env = {"SUPERVISION_KIT_SHARED_MODE": "group", **settings.extra_env}
    if pw is None:
        log.warning("no OS account for hub user %s yet; pair folders wait for it", user)
        return env
    for p in mine:
        ensure_pair_folder(settings, p)
        for member in (p.worker_user, p.supervisor_user):
            with contextlib.suppress(KeyError):
                ensure_member(p.group, pwd.getpwnam(
                    settings.os_user.format(username=member)).pw_name)
    env["SUPERVISION_KIT_PAIRS"] = str(link_pairs(settings, pw, user, mine))
    env["SUPERVISION_KIT_STORE"] = str(Path(pw.pw_dir) / "workbooks")
    if settings.signing_keys and shutil.which("ssh-keygen"):
        env["SUPERVISION_KIT_SIGNING_KEY"] = str(ensure_signing_key(settings, pw, user))
        env["SUPERVISION_KIT_ALLOWED_SIGNERS"] = str(settings.allowed_signers)
    return env


def pre_spawn_hook(settings: HubSettings) -> Any:
    """``c.Spawner.pre_spawn_hook = pre_spawn_hook(HubSettings(...))``."""
    async def hook(spawner: Any) -> None:
        env = await asyncio.to_thread(provision_user, settings, spawner.user.name)
        spawner.environment = {**(spawner.environment or {}), **env}

    return hook


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m supervision_kit.hub.provision",
                                 description="create every pair folder, group and link now")
    ap.add_argument("--root", default="/srv/supervision-kit")
    ap.add_argument("--pairs", help="pairs CSV (default ROOT/pairs.csv)")
    ap.add_argument("--os-user", default="jupyter-{username}",
                    help="OS user name of a hub user (default: TLJH's jupyter-{username})")
    ap.add_argument("--no-keys", action="store_true", help="do not make signing keys")
    a = ap.parse_args(argv)
    settings = HubSettings(root=Path(a.root), pairs_file=Path(a.pairs) if a.pairs else None,
                           os_user=a.os_user, signing_keys=not a.no_keys)
    users = sorted({u for p in read_pairs(settings.pairs_path)
                    for u in (p.worker_user, p.supervisor_user)})
    for user in users:
        env = provision_user(settings, user)
        print(f"{user}: {'ready' if 'SUPERVISION_KIT_PAIRS' in env else 'no OS account yet'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
