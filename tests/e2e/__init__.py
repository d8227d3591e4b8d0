"""End-to-end tests: a real JupyterLab (and Voila) server driven by Chromium via Playwright."""
