# supervision-kit on JupyterHub: a jupyterhub_config.d fragment.
#
# The Littlest JupyterHub loads every /opt/tljh/config/jupyterhub_config.d/*.py after its own
# settings; any other JupyterHub can load it from jupyterhub_config.py with
#     load_subconfig("/path/to/deploy/jupyterhub_config.d/supervision_kit.py")
# The hub's own Python needs the package (standard library only on this side):
#     sudo /opt/tljh/hub/bin/python3 -m pip install --no-deps supervision-kit
# See deploy/README.md for what this does and why.
import os
import shutil
import sys
from pathlib import Path

from supervision_kit.hub.provision import HubSettings, pre_spawn_hook

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

_env = os.environ.get
settings = HubSettings(
    root=Path(_env("SUPERVISION_KIT_HUB_ROOT", "/srv/supervision-kit")),  # pairs.csv lives here
    # The Littlest JupyterHub runs hub user "alice" as OS user "jupyter-alice"
    os_user=_env("SUPERVISION_KIT_OS_USER", "jupyter-{username}"),
    # TLJH creates OS users when a server first starts, after this hook: create them here
    create_users=_env("SUPERVISION_KIT_CREATE_USERS", "1") == "1",
    # a per-user SSH signing key, allowed in <root>/allowed_signers under the hub account
    signing_keys=_env("SUPERVISION_KIT_SIGNING_KEYS", "1") == "1" and bool(
        shutil.which("ssh-keygen")),
)
c.Spawner.pre_spawn_hook = pre_spawn_hook(settings)
c.Spawner.default_url = "/lab"

# Idle culling. TLJH runs jupyterhub-idle-culler itself (tljh-config set services.cull.*);
# elsewhere the fragment adds it (SUPERVISION_KIT_CULLER=0 to leave culling to you). Culling
# loses nothing: every answer reaches the journal on disk within a second of typing, and a
# stopped kernel flushes what is pending (see deploy/README.md).
# (A fragment is loaded into a fresh config that is then merged into the hub's: .append adds
# to the hub's own services and roles instead of replacing them.)
if (_env("SUPERVISION_KIT_CULLER", "1") == "1" and not _env("TLJH_INSTALL_PREFIX")):
    try:
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError:
        pass
    else:
        c.JupyterHub.services.append({
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                        "--timeout=" + _env("SUPERVISION_KIT_CULL_TIMEOUT", "3600"),
                        "--cull-every=300"],
        })
        c.JupyterHub.load_roles.append({
            "name": "idle-culler", "services": ["idle-culler"],
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
