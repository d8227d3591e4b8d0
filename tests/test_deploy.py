"""The deployment files (deploy/) and the hub package, without a hub: the JupyterHub fragment,
the zero-to-jupyterhub hook, the pairs list and the launcher. tests/e2e/test_hub.py runs the
fragment in a real JupyterHub."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config

from supervision_kit.core.workbook import open_record
from supervision_kit.hub.launcher import lab_path, lab_url, new_session
from supervision_kit.hub.pairs import (
    Pair,
    PairsError,
    load_my_pairs,
    my_pairs_json,
    pairs_of,
    parse_pairs,
)
from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"
CSV = ("worker_user,worker_name,supervisor_user,supervisor_name\n"
       "alice,A. Okafor,bob,B. Lindqvist\n"
       "# a comment\n"
       "chen,C. Chen,bob,B. Lindqvist\n")


def loaded(tmp_path: Path, before: str, env: dict[str, str]) -> Config:
    import os

    from traitlets.config.loader import PyFileConfigLoader

    cfg = tmp_path / "jupyterhub_config.py"
    fragment = DEPLOY / "jupyterhub_config.d" / "supervision_kit.py"
    cfg.write_text(f"c = get_config()\n{before}\nload_subconfig({str(fragment)!r})\n")
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return PyFileConfigLoader(cfg.name, path=str(tmp_path)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(old)


def names(value) -> list[str]:
    """Service or role names from a config value (a list, or a lazy .append on none)."""
    items = value if isinstance(value, list) else value.get_value([])
    return [s["name"] for s in items]


def test_fragment_adds_to_the_hubs_services_and_roles(tmp_path):
    pytest.importorskip("jupyterhub_idle_culler")
    before = ('c.JupyterHub.services = [{"name": "mine", "api_token": "x"}]\n'
              'c.JupyterHub.load_roles = [{"name": "mine", "services": ["mine"]}]')
    c = loaded(tmp_path, before, {"SUPERVISION_KIT_HUB_ROOT": str(tmp_path)})
    assert callable(c.Spawner.pre_spawn_hook)
    assert c.Spawner.default_url == "/lab"
    assert names(c.JupyterHub.services) == ["mine", "idle-culler"]
    assert names(c.JupyterHub.load_roles) == ["mine", "idle-culler"]
    cull = c.JupyterHub.services[1]
    assert "--timeout=3600" in cull["command"]
    assert set(c.JupyterHub.load_roles[1]["scopes"]) == {
        "list:users", "read:users:activity", "read:servers", "delete:servers"}


def test_fragment_leaves_tljhs_culler_alone(tmp_path):
    """TLJH configures its own culler ("cull-idle") before it loads the fragment."""
    before = 'c.JupyterHub.services = [{"name": "cull-idle", "admin": True, "command": ["x"]}]'
    c = loaded(tmp_path, before, {"SUPERVISION_KIT_HUB_ROOT": str(tmp_path),
                                  "TLJH_INSTALL_PREFIX": "/opt/tljh"})
    assert names(c.JupyterHub.services) == ["cull-idle"]
    assert callable(c.Spawner.pre_spawn_hook)


def test_z2jh_values_and_hook(tmp_path, monkeypatch):
    values = yaml.safe_load((DEPLOY / "z2jh" / "values.yaml").read_text())
    assert values["cull"] == {"enabled": True, "timeout": 3600, "every": 300, "users": False}
    assert values["singleuser"]["defaultUrl"] == "/lab"
    assert values["singleuser"]["storage"]["type"] == "dynamic"
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("worker_user,worker_name,supervisor_user,supervisor_name,worker_uid,"
                     "supervisor_uid,gid\n"
                     "alice,A. Okafor,bob,B. Lindqvist,20001,20002,30001\n"
                     "chen,C. Chen,bob,B. Lindqvist,20003,20002,30002\n")
    monkeypatch.setenv("SUPERVISION_KIT_PAIRS_FILE", str(pairs))
    c = Config()
    exec(compile(values["hub"]["extraConfig"]["supervision-kit"], "extraConfig", "exec"),
         {"c": c})
    hook = c.KubeSpawner.pre_spawn_hook

    def spawn(name):
        sp = SimpleNamespace(user=SimpleNamespace(name=name), environment={}, volumes=[],
                             volume_mounts=[], uid=1000, gid=100, supplemental_gids=[])
        asyncio.run(hook(sp))
        return sp

    bob = spawn("bob")
    assert bob.uid == 20002 and bob.supplemental_gids == [30001, 30002]
    assert [m["mountPath"] for m in bob.volume_mounts] == ["/home/jovyan/supervision/alice",
                                                          "/home/jovyan/supervision/chen"]
    assert [m["subPath"] for m in bob.volume_mounts] == ["pairs/alice--bob", "pairs/chen--bob"]
    assert bob.environment["SUPERVISION_KIT_SHARED_MODE"] == "group"
    mine = json.loads(bob.environment["SUPERVISION_KIT_PAIRS"])
    assert [p["role"] for p in mine] == ["supervisor", "supervisor"]
    alice = spawn("alice")
    assert alice.uid == 20001 and alice.supplemental_gids == [30001]
    assert alice.volume_mounts[0]["mountPath"] == "/home/jovyan/supervision/with-bob"
    outsider = spawn("mallory")
    assert outsider.uid == 1000 and outsider.volume_mounts == []
    monkeypatch.setenv("SUPERVISION_KIT_PAIRS", alice.environment["SUPERVISION_KIT_PAIRS"])
    assert load_my_pairs()[0]["path"] == "/home/jovyan/supervision/with-bob"


def test_install_script_and_examples_parse():
    subprocess.run(["bash", "-n", str(DEPLOY / "tljh" / "install.sh")], check=True)
    assert len(parse_pairs((DEPLOY / "pairs.example.csv").read_text())) == 3
    start = json.loads((DEPLOY / "templates-repo" / "START.ipynb").read_text())
    assert "supervision_kit.hub.launcher import show" in "".join(start["cells"][1]["source"])


def test_pairs_list():
    pairs = parse_pairs(CSV)
    assert [p.folder for p in pairs] == ["alice--bob", "chen--bob"]
    assert pairs[0].group.startswith("skp-") and len(pairs[0].group) <= 32
    assert pairs[0].group != pairs[1].group
    assert [p.folder for p in pairs_of(pairs, "bob")] == ["alice--bob", "chen--bob"]
    assert pairs[0].label_for("alice") == "with-bob" and pairs[0].label_for("bob") == "alice"
    for bad, match in (("a,b,c\n", "header"),
                       (CSV + "alice,A,alice,A\n", "supervise themselves"),
                       (CSV + "alice,A. Okafor,bob,B\n", "appears twice"),
                       (CSV + "al ice,A,bob,B\n", "not a hub account"),
                       (CSV + "a--b,A,bob,B\n", "not a hub account"),
                       (CSV + "dan,,bob,B\n", "name or initials")):
        with pytest.raises(PairsError, match=match):
            parse_pairs(bad)


def test_launcher_makes_the_workbook_in_the_pair_folder(tmp_path, monkeypatch):
    pair_dir = tmp_path / "srv" / "pairs" / "alice--bob"
    pair_dir.mkdir(parents=True)
    home = tmp_path / "home"
    (home / "supervision").mkdir(parents=True)
    (home / "supervision" / "with-bob").symlink_to(pair_dir)
    mine = json.loads(my_pairs_json(parse_pairs(CSV), "alice", tmp_path / "srv"))
    assert mine == [{"worker_user": "alice", "worker_name": "A. Okafor", "supervisor_user":
                     "bob", "supervisor_name": "B. Lindqvist", "role": "worker",
                     "path": str(pair_dir), "label": "with-bob"}]
    (home / "supervision" / ".pairs.json").write_text(json.dumps(mine))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SUPERVISION_KIT_PAIRS", raising=False)
    [pair] = load_my_pairs()
    nb = new_session(pair, cases=["c-1"], date="2026-03-02", template="kinds",
                     templates=ROOT / "tests" / "fixtures" / "templates")
    assert nb.parent.parent == pair_dir
    info = open_record(nb).info
    assert (info["worker"], info["worker_user"], info["supervisor_user"]) == (
        "A. Okafor", "alice", "bob")
    rel = lab_path(nb, pair, home)
    assert rel == f"supervision/with-bob/c-1/{nb.name}"
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
    assert lab_url(rel) == f"/user/alice/lab/tree/supervision/with-bob/c-1/{nb.name}"


def test_pair_dataclass_is_plain():
    p = Pair("a", "A", "b", "B")
    assert p.accounts() == {"worker_user": "a", "supervisor_user": "b"}
    assert p.role_of("b") == "supervisor" and p.role_of("c") is None
    assert Path(p.folder).name == "a--b"
