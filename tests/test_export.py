"""HTML/PDF export: code hidden, injected HTML inert, sign-off and redaction shown."""

import os
import shutil
import stat
from html.parser import HTMLParser

import pytest

from supervision_kit.core.errors import InputError
from supervision_kit.export.html import export
from supervision_kit.record import fill
from supervision_kit.signoff import sign
from tests.helpers import external_refs, run_cli

pytestmark = pytest.mark.timeout(300)

HOSTILE = {
    "story": "Before <script>alert('story')</script> after\n<img src=x onerror=alert('img')>",
    "headline": "<svg onload=alert('svg')> & <a href=\"javascript:alert('a')\">x</a>",
    "rows": [{"who": "Client", "said": "<iframe src=javascript:alert('row')></iframe>"}],
    "mood": 4,
}


class Page(HTMLParser):
    """Collects every element, its attributes, and script bodies."""

    def __init__(self):
        super().__init__()
        self.tags, self.scripts, self.text, self._in_script = [], [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def parse(path):
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_html_export_is_inert_and_complete(kinds_workbook, tmp_path):
    fill(kinds_workbook, HOSTILE)  # live workbook: answers only in the journal
    sign(kinds_workbook, "worker", "W. Test")
    sign(kinds_workbook, "supervisor", "S. Test")
    out = export(kinds_workbook, to="html", out=tmp_path / "record.html")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    page = parse(out)
    assert not any("alert" in s for s in page.scripts)
    for tag, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        assert tag not in ("iframe", "svg", "img") or "alert" not in str(attrs)
        assert not any("javascript:" in str(v) for v in attrs.values()), (tag, attrs)
    text = "".join(page.text)
    assert "<script>alert('story')</script>" in text  # shown as text
    assert "<img src=x onerror=alert('img')>" in text
    assert "<iframe src=javascript:alert('row')></iframe>" in text
    assert "wb.ask" not in text and "open_workbook" not in text
    assert "W. Test" in text and "S. Test" in text and "Locked" in text
    assert "Verified" in text
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert csp and "default-src 'none'" in csp[0]["content"]
    assert "Describe what happened" in text and "Exchanges" in text  # each question shown
    assert external_refs(out.read_text(encoding="utf-8")) == []  # self-contained, offline
    assert not any(t == "script" and a.get("src") for t, a in page.tags)


def test_export_shows_failed_verification_and_redacts(kinds_workbook, tmp_path):
    fill(kinds_workbook, {"story": "Mum's mobile is 07700 900123, e-mail sam@example.org; "
                                   "Robin Fell was there."})
    sign(kinds_workbook, "worker", "W. Test")
    fill(kinds_workbook, {"headline": "changed after signing"})
    deny = tmp_path / "deny.txt"
    deny.write_text("Robin Fell\n")
    code, out, err = run_cli("export", kinds_workbook, "--redact", "--deny-list", deny,
                             "--out", tmp_path / "r.html")
    assert code == 0, err
    text = "".join(parse(tmp_path / "r.html").text)
    assert "900123" not in text and "sam@example" not in text and "Robin" not in text
    assert "[phone removed]" in text and "[name removed]" in text
    assert "Verification FAILED" in text and "'headline'" in text
    plain = export(kinds_workbook, out=tmp_path / "p.html")
    assert "07700 900123" in "".join(parse(plain).text)


def test_default_path_and_refusals(kinds_workbook, tmp_path):
    fill(kinds_workbook, {"mood": 3})
    out = export(kinds_workbook)
    assert out == kinds_workbook.with_suffix(".html") and out.exists()
    target = tmp_path / "elsewhere.html"
    target.write_text("keep me")
    link = tmp_path / "link.html"
    os.symlink(target, link)
    with pytest.raises(InputError, match="symbolic link"):
        export(kinds_workbook, out=link)
    assert target.read_text() == "keep me"
    with pytest.raises(InputError, match="folder"):
        export(kinds_workbook, out=tmp_path)
    with pytest.raises(InputError, match="format"):
        export(kinds_workbook, to="docx")


def test_pdf_export(kinds_workbook, tmp_path):
    if not shutil.which("chromium") and os.environ.get("CI") != "true":
        pytest.skip("Chromium is not installed")
    fill(kinds_workbook, HOSTILE)
    code, out, err = run_cli("export", kinds_workbook, "--to", "pdf", "--out",
                             tmp_path / "r.pdf")
    assert code == 0, err
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000


def test_pdf_without_chromium_is_a_clear_error(kinds_workbook, tmp_path):
    fill(kinds_workbook, {"mood": 3})
    code, out, err = run_cli("export", kinds_workbook, "--to", "pdf", "--out",
                             tmp_path / "r.pdf", env={"PATH": "/nonexistent"})
    assert code == 1 and "Chromium" in err and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


def test_html_export_hides_code_inputs():
    """The exporter itself drops code: a code cell's source never reaches the page."""
    import nbformat.v4 as v4

    from supervision_kit.export.html import to_html

    nb = v4.new_notebook(cells=[v4.new_markdown_cell("Shown"),
                                v4.new_code_cell("SECRET_SOURCE_MARKER = 1")])
    page = to_html(nb)
    assert "Shown" in page and "SECRET_SOURCE_MARKER" not in page
