"""Exports of a record (HTML, PDF), answers escaped, private prompts left out."""
