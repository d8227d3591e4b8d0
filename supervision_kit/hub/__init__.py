"""supervision-kit on JupyterHub: pair folders and groups (``provision``, hub side), the pairs
list (``pairs``) and the launcher notebook's form (``launcher``, user side). See
deploy/README.md."""
