"""Who signs: the hub account named for the role, and SSH-key signatures checked against an
allowed-signers file (including a forged re-signature, which must fail)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from supervision_kit.core import journal as jr
from supervision_kit.core.errors import IdentityError, InputError
from supervision_kit.core.store import journal_path
from supervision_kit.core.workbook import open_record
from supervision_kit.record import fill
from supervision_kit.signoff import sign, verify
from supervision_kit.signoff.identity import accounts
from supervision_kit.signoff.sshsig import (
    SIGNATURE,
    allowed_signers_line,
    payload,
    signers_from_agreement,
)
from tests.helpers import FIXTURE_TEMPLATES, run_cli

ANSWERS = {"story": "We met in the office.", "mood": 4, "pick": "Yes"}
needs_ssh = pytest.mark.skipif(not shutil.which("ssh-keygen"), reason="ssh-keygen missing")


@pytest.fixture
def hub_workbook(make_workbook):
    nb = make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES),
                       worker="A. Worker", supervisor="B. Lead",
                       accounts=accounts("alice", "bob"))
    fill(nb, ANSWERS)
    return nb


def rechain(path, events):
    prev, lines = jr.GENESIS, []
    for ev in events:
        ev["prev"] = prev
        ev["h"] = prev = jr.chain_hash(prev, ev)
        lines.append(jr.canonical(ev))
    journal_path(path).write_text("\n".join(lines) + "\n")


def keygen(tmp_path, name):
    key = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
                   check=True, timeout=30)
    return key


# ---------------------------------------------------------------- hub identity


def test_accounts_are_recorded_and_must_differ(hub_workbook):
    info = open_record(hub_workbook).info
    assert (info["worker_user"], info["supervisor_user"]) == ("alice", "bob")
    with pytest.raises(InputError, match="different accounts"):
        accounts("alice", "alice")
    with pytest.raises(InputError, match="JupyterHub user name"):
        accounts("al ice", None)


def test_on_a_hub_the_worker_cannot_sign_as_supervisor(hub_workbook, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    with pytest.raises(IdentityError, match="signed in to the hub as 'alice'.*the supervisor of "
                       "this record is 'bob'.*you can sign as the worker"):
        sign(hub_workbook, "supervisor", "B. Lead")
    ev = sign(hub_workbook, "worker", "A. Worker")
    assert ev["hub_user"] == "alice" and not ev["locked"]
    monkeypatch.setenv("JUPYTERHUB_USER", "carol")
    with pytest.raises(IdentityError, match="neither the worker nor the supervisor"):
        sign(hub_workbook, "supervisor", "B. Lead")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    assert sign(hub_workbook, "supervisor", "B. Lead")["locked"]
    rep = verify(hub_workbook)
    assert rep.ok, rep.problems
    assert "hub account bob" in "\n".join(rep.lines())


def test_on_a_hub_a_workbook_without_accounts_cannot_be_signed(kinds_workbook, monkeypatch):
    fill(kinds_workbook, ANSWERS)
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    with pytest.raises(IdentityError, match="names no JupyterHub account for the worker"):
        sign(kinds_workbook, "worker", "W. Test")


def test_cli_identity_error_is_one_line(hub_workbook):
    code, _out, err = run_cli("sign", hub_workbook, "--role", "supervisor", "--name", "B. Lead",
                              env={"JUPYTERHUB_USER": "alice"})
    assert code == 1 and err.count("\n") == 1 and "the supervisor of this record is 'bob'" in err


def test_verify_reports_a_hub_signature_for_the_wrong_account(hub_workbook, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    sign(hub_workbook, "worker", "A. Worker")
    events = jr.read_journal(journal_path(hub_workbook)).events
    events[-1]["hub_user"] = "mallory"
    rechain(hub_workbook, events)
    monkeypatch.delenv("JUPYTERHUB_USER")
    rep = verify(hub_workbook)
    assert any("hub account 'mallory'" in p for p in rep.problems)


# ---------------------------------------------------------------- SSH keys


@pytest.fixture
def keys(tmp_path):
    worker, supervisor = keygen(tmp_path, "worker"), keygen(tmp_path, "supervisor")
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("\n".join([
        allowed_signers_line("A. Worker", (worker.with_suffix(".pub")).read_text()),
        allowed_signers_line("B. Lead", (supervisor.with_suffix(".pub")).read_text()),
    ]) + "\n")
    return {"worker": worker, "supervisor": supervisor, "allowed": allowed,
            "other": keygen(tmp_path, "other")}


@needs_ssh
def test_ssh_signatures_verify_against_allowed_signers(hub_workbook, keys):
    ev = sign(hub_workbook, "worker", "A. Worker", key=keys["worker"])
    assert ev[SIGNATURE].startswith("-----BEGIN SSH SIGNATURE-----")
    assert ev["principal"] == "A. Worker" and ev["key_fingerprint"].startswith("SHA256:")
    sign(hub_workbook, "supervisor", "B. Lead", key=keys["supervisor"])
    rep = verify(hub_workbook, allowed_signers=keys["allowed"])
    assert rep.ok, rep.problems
    assert any("SSH signature is good for 'B. Lead'" in n for n in rep.notes)
    code, out, err = run_cli("verify", hub_workbook, "--allowed-signers", keys["allowed"])
    assert code == 0, err
    assert "verification: OK" in out and "SSH key SHA256:" in out


@needs_ssh
def test_key_from_environment_and_cli(hub_workbook, keys, monkeypatch):
    code, _out, err = run_cli("sign", hub_workbook, "--role", "worker", "--name", "A. Worker",
                              "--key", keys["worker"])
    assert code == 0, err
    monkeypatch.setenv("SUPERVISION_KIT_SIGNING_KEY", str(keys["supervisor"]))
    assert sign(hub_workbook, "supervisor", "B. Lead")["locked"]
    assert verify(hub_workbook, allowed_signers=keys["allowed"]).ok


@needs_ssh
def test_forged_resignature_fails_verify_with_allowed_signers(hub_workbook, keys):
    """Both signed with their keys. A forger deletes the signatures, changes an answer,
    rebuilds the hash chain and signs again under the same names, without the right keys:
    plain verify cannot tell (documented limit), verify --allowed-signers must."""
    sign(hub_workbook, "worker", "A. Worker", key=keys["worker"])
    sign(hub_workbook, "supervisor", "B. Lead", key=keys["supervisor"])
    assert verify(hub_workbook, allowed_signers=keys["allowed"]).ok
    genuine = [e for e in jr.read_journal(journal_path(hub_workbook)).events
               if e["type"] == "sign"]

    def forge(how):
        events = [e for e in jr.read_journal(journal_path(hub_workbook)).events
                  if e["type"] != "sign"]
        for e in events:
            if e.get("id") == "story":
                e["v"] = "We never met; the visit did not happen."
        rechain(hub_workbook, events)
        for role, name in (("worker", "A. Worker"), ("supervisor", "B. Lead")):
            how(role, name)
        assert open_record(hub_workbook).locked
        assert open_record(hub_workbook).answers["story"].startswith("We never met")

    # 1. re-signed without any key
    forge(lambda role, name: sign(hub_workbook, role, name))
    assert verify(hub_workbook).ok  # without keys the rewrite is consistent: the known limit
    rep = verify(hub_workbook, allowed_signers=keys["allowed"])
    assert not rep.ok
    assert sum("has no SSH signature" in p for p in rep.problems) == 2
    code, out, _err = run_cli("verify", hub_workbook, "--allowed-signers", keys["allowed"])
    assert code == 1 and "CHANGED: the worker's signature has no SSH signature" in out

    # 2. re-signed under the same names with the forger's own key
    forge(lambda role, name: sign(hub_workbook, role, name, key=keys["other"]))
    assert verify(hub_workbook).ok
    rep = verify(hub_workbook, allowed_signers=keys["allowed"])
    assert sum("not a valid SSH signature" in p for p in rep.problems) == 2, rep.problems

    # 3. the genuine signatures copied onto the changed answers
    events = [e for e in jr.read_journal(journal_path(hub_workbook)).events
              if e["type"] != "sign"]
    rechain(hub_workbook, events + [dict(e) for e in genuine])
    rep = verify(hub_workbook, allowed_signers=keys["allowed"])
    assert not rep.ok


@needs_ssh
def test_tampered_signed_fields_break_the_ssh_signature(hub_workbook, keys):
    sign(hub_workbook, "worker", "A. Worker", key=keys["worker"])
    events = jr.read_journal(journal_path(hub_workbook)).events
    before = payload(events[-1])
    events[-1]["template_version"] = "9.9"
    assert payload(events[-1]) != before
    rechain(hub_workbook, events)
    rep = verify(hub_workbook, allowed_signers=keys["allowed"])
    assert any("not a valid SSH signature" in p for p in rep.problems)


@needs_ssh
def test_same_principal_for_both_roles_is_reported(make_workbook, keys, tmp_path):
    nb = make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES), case="c-2",
                       worker="A. Worker", supervisor="A. Worker")
    fill(nb, ANSWERS)
    sign(nb, "worker", "A. Worker", key=keys["worker"])
    sign(nb, "supervisor", "A. Worker", key=keys["worker"])
    rep = verify(nb, allowed_signers=keys["allowed"])
    assert any("signed as the same person" in p for p in rep.problems)


def test_bad_key_and_missing_allowed_signers(hub_workbook, tmp_path):
    with pytest.raises(InputError, match="no such key file"):
        sign(hub_workbook, "worker", "A. Worker", key=tmp_path / "nope")
    with pytest.raises(InputError, match="no such allowed-signers file"):
        verify(hub_workbook, allowed_signers=tmp_path / "nope")


def test_allowed_signers_lines():
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGchk+ZYsAfX6VGnKrmYaIZZCsde comment"
    assert allowed_signers_line("alice@example.org", key) == (
        'alice@example.org namespaces="supervision-kit" ssh-ed25519 '
        "AAAAC3NzaC1lZDI1NTE5AAAAIGchk+ZYsAfX6VGnKrmYaIZZCsde")
    assert allowed_signers_line("P. Nair", key).startswith('"P. Nair" namespaces=')
    with pytest.raises(InputError):
        allowed_signers_line("x", "-----BEGIN OPENSSH PRIVATE KEY-----")


@needs_ssh
def test_signers_from_an_agreement(make_workbook, keys, tmp_path):
    """Public keys recorded in an agreement become allowed-signers lines (by prompt role)."""
    nb = make_workbook(template="kinds", templates=str(FIXTURE_TEMPLATES), case="c-3",
                       worker="A. Worker", supervisor="B. Lead",
                       accounts=accounts("alice", "bob"))
    # 'headline' is a worker prompt and 'when' a supervisor one in the fixture template
    fill(nb, {"headline": keys["worker"].with_suffix(".pub").read_text().strip(),
              "story": "not a key"})
    lines = signers_from_agreement(nb)
    assert len(lines) == 2
    assert lines[0].startswith('"A. Worker" namespaces="supervision-kit" ssh-ed25519 ')
    assert lines[1].startswith('alice namespaces="supervision-kit" ssh-ed25519 ')
    code, out, err = run_cli("signers", nb)
    assert code == 0, err
    assert out.splitlines() == lines
    json.dumps(lines)
