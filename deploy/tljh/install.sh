#!/usr/bin/env bash
# supervision-kit on The Littlest JupyterHub: the commands, in order, on the hub machine.
# Run as an admin with sudo after installing TLJH (https://tljh.jupyter.org). Idempotent.
# Read deploy/README.md first: it explains what each step is for.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"   # the deploy/ folder
ROOT=/srv/supervision-kit                  # pair folders and allowed_signers live here

# 1. system tools: default ACLs on pair folders, signing keys, nbgitpuller's git
sudo apt-get install -y acl openssh-client git

# 2. the kit for the users (their kernels) and nbgitpuller (the link handler) ...
sudo -E /opt/tljh/user/bin/pip install supervision-kit nbgitpuller
#    ... and the provisioning module for the hub (standard library only)
sudo /opt/tljh/hub/bin/python3 -m pip install --no-deps supervision-kit

# 3. the pairs list: copy the example, then edit it (hub accounts and names)
sudo mkdir -p "$ROOT"
sudo chmod 711 "$ROOT"
if [ ! -f "$ROOT/pairs.csv" ]; then
  sudo install -m 600 "$HERE/pairs.example.csv" "$ROOT/pairs.csv"
  echo "edit $ROOT/pairs.csv before people log in"
fi

# 4. the JupyterHub fragment (TLJH loads every jupyterhub_config.d/*.py after its settings)
sudo install -m 644 "$HERE/jupyterhub_config.d/supervision_kit.py" \
  /opt/tljh/config/jupyterhub_config.d/supervision_kit.py

# 5. TLJH settings: JupyterLab by default, culling after an hour idle (loses nothing:
#    answers are on disk within a second), memory per user
sudo tljh-config set user_environment.default_app jupyterlab
sudo tljh-config set services.cull.enabled true
sudo tljh-config set services.cull.timeout 3600
sudo tljh-config set services.cull.every 300
sudo tljh-config set limits.memory 2G
# users: add each hub account that may log in (or configure an OAuthenticator instead)
#   sudo tljh-config add-item users.allowed alice
#   sudo tljh-config add-item users.admin programme-admin
sudo tljh-config reload

# 6. optional: make every pair folder, group, link and key now instead of at each first login
#    (run again after editing pairs.csv)
sudo /opt/tljh/hub/bin/python3 -m supervision_kit.hub.provision --root "$ROOT"
