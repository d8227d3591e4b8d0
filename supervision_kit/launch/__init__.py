"""Starting JupyterLab and Voila for people, and the demo store."""
