"""The workbook's look: one small stylesheet, shipped as the workbook's first output.

It makes a workbook read like a form in JupyterLab without asking anyone to change a setting:
hidden code cells (``jupyter.source_hidden``) lose their collapsed-code line and their
``[n]:`` prompts, and each question's label sits above its box. The rules only apply to cells
whose output is ours (class ``sk-out``; papermill's injected cell after the parameters cell
goes with it), so other open notebooks keep their usual look. The live answer mirror under
each widget is hidden here only; it stays in the saved outputs. Icons are Font Awesome, which
JupyterLab and Voila ship, so nothing depends on an emoji font. Pure strings: the template
builder imports this without ipywidgets.
"""

from __future__ import annotations

import html

from ..generate.question import OUT  # class on everything a workbook cell shows

MARKER = "sk-workbook"  # in the stylesheet's output
_shown = False  # the stylesheet was shown in this kernel (by the parameters cell)
CELL = f".jp-CodeCell:has(.{OUT})"  # a cell of ours (a cell-local :has stays cheap)

# Only rules whose :has() looks inside one cell: a notebook-wide :has() made every output
# that Run All adds restyle the whole notebook (about half a second of style work).
CSS = f"""
{CELL} .jp-Cell-inputWrapper {{ display: none; }}
{CELL} .jp-OutputPrompt {{ visibility: hidden; }}
{CELL} .jp-OutputArea-promptOverlay {{ display: none; }}
{CELL} + .jp-CodeCell.jp-mod-noOutputs {{ display: none; }}
.jp-CodeCell:has(.{MARKER}), .jp-CodeCell:has(.sk-quiet) {{ display: none; }}
.jp-OutputArea-child:has(.sk-prompt) ~ .jp-OutputArea-child:has(.jp-RenderedMarkdown) {{
  display: none; }}
.jp-OutputArea-child:has(.{MARKER}), .jp-OutputArea-child:has(.sk-quiet),
.jp-OutputArea-child:has(.sk-settled) {{ display: none; }}
.sk-q-out p {{ margin: 0 0 4px 0; }}
.sk-q-out .sk-cond {{ color: #4d4d4d; font-style: italic; }}
.sk-prompt {{ margin: 4px 0 10px 0; gap: 2px; }}
.sk-prompt > .widget-inline-hbox, .sk-prompt > .widget-radio {{ display: contents; }}
.sk-prompt > .widget-inline-hbox > .widget-label, .sk-prompt > .widget-radio > .widget-label,
.sk-q {{
  order: -2; width: auto !important; max-width: none; height: auto; min-height: 0;
  line-height: 1.4; white-space: normal; text-align: left; overflow: visible;
  font-weight: 600; font-size: var(--jp-content-font-size1, 14px);
  color: var(--jp-content-font-color0, #000); padding: 0; margin: 0; }}
.sk-prompt > .sk-help {{ order: -1; }}
.sk-prompt .widget-html-content {{ line-height: 1.4; white-space: normal; height: auto; }}
.sk-help .widget-html-content, .sk-note .widget-html-content {{
  font-size: var(--jp-content-font-size1, 14px); color: var(--jp-content-font-color1, #222); }}
.sk-prompt p {{ margin: 0 0 4px 0; }}
.sk-badge {{ display: inline-block; font-size: 12px; line-height: 1.3; padding: 0 6px;
  margin-right: 4px; border: 1px solid #1a4d80; border-radius: 8px; color: #1a4d80;
  background: #fff; }}
.sk-cond, .sk-condline .widget-html-content {{ color: #4d4d4d; font-style: italic; }}
.sk-condline .widget-html-content {{ white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; font-size: 13px; }}
.sk-prompt textarea, .sk-prompt input[type="text"] {{
  font-family: var(--jp-ui-font-family); font-size: var(--jp-content-font-size1, 14px); }}
.sk-kind-number > .widget-inline-hbox > input, .sk-kind-date > .widget-inline-hbox > input {{
  align-self: flex-start; width: 14em; max-width: 100%; }}
.sk-table .widget-inline-hbox > .widget-label {{ position: absolute; width: 1px; height: 1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }}
.sk-wrap .widget-radio-box label, .sk-wrap .jupyter-widget-radio-box label {{
  height: auto; line-height: 1.35; padding: 3px 0; white-space: normal; display: flex;
  flex-direction: row-reverse; justify-content: flex-end; align-items: flex-start; gap: 6px; }}
.sk-wrap .widget-radio-box input, .sk-wrap .jupyter-widget-radio-box input {{
  height: 1.35em; line-height: 1.35em; float: none; flex-shrink: 0; margin: 0; }}
.sk-status .widget-html-content, .sk-state .widget-html-content {{
  line-height: 1.5; white-space: normal; height: auto;
  font-size: var(--jp-content-font-size1, 14px); color: var(--jp-content-font-color0, #000); }}
.sk-problem {{ color: #a4001c; }}
.sk-ok {{ color: #1d6b2a; }}
.sk-finish {{ border-top: 1px solid #8c8c8c; padding-top: 8px; margin-top: 8px; gap: 6px; }}
.sk-finish .widget-label {{ width: auto !important; color: var(--jp-content-font-color0, #000); }}
.sk-addendum > .widget-textarea {{ flex-direction: column; align-items: stretch; }}
.sk-addendum .widget-textarea > .widget-label {{ text-align: left; width: auto !important; }}
.sk-save-record {{ display: inline-block; padding: 4px 12px; border-radius: 2px;
  border: 1px solid #0b5394; background: #0b5394; color: #fff !important; font-weight: 600;
  text-decoration: none !important; cursor: pointer; font-size: 13px; line-height: 20px; }}
.sk-save-record:focus {{ outline: 2px solid #f0a000; outline-offset: 2px; }}
.sk-download {{ display: inline-block; padding: 4px 12px; border-radius: 2px;
  background: #0b5394; color: #fff !important; font-weight: 600; font-size: 13px;
  line-height: 20px; text-decoration: none !important; }}
.sk-download:focus {{ outline: 2px solid #f0a000; outline-offset: 2px; }}
"""


# A small script next to the stylesheet (an application/javascript output: JupyterLab and Voila
# run it only in a trusted notebook, and show nothing otherwise). What CSS cannot do:
# - keys pressed in the workbook's own boxes and buttons (arrows on a scale, letters, Enter,
#   Space) stay there instead of reaching JupyterLab's notebook shortcuts, which would move to
#   another cell or even delete one (D, D); shortcuts with Ctrl/Cmd/Alt (Ctrl+S) still work;
# - radio buttons and checkbox groups become a named group (role radiogroup / group, labelled
#   by the question), and each input is described by its help line.
FORM_JS = r"""
(() => {
  if (window.__skForm) { window.__skForm.scan(); return; }
  let n = 0, pending = false;
  const ident = (el, prefix) => el.id || (el.id = prefix + (++n));
  const guard = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key === 'Tab' || e.key === 'Escape') return;
    if (e.target && e.target.closest && e.target.closest('.sk-out')) e.stopPropagation();
  };
  function name(box) {
    const radio = box.querySelector(':scope > .widget-radio');
    const help = box.querySelector(':scope > .sk-help .widget-html-content');
    const described = help ? ident(help, 'sk-help-') : null;
    if (radio) {
      const label = radio.querySelector(':scope > .widget-label');
      const group = radio.querySelector(':scope > .widget-radio-box');
      if (!label || !group) return false;
      group.setAttribute('role', 'radiogroup');
      group.setAttribute('aria-labelledby', ident(label, 'sk-q-'));
      if (described) group.setAttribute('aria-describedby', described);
      return true;
    }
    const head = box.querySelector(':scope > .sk-head .sk-q');
    if (head) {
      const group = box.querySelector(':scope > .widget-vbox, :scope > .widget-box');
      if (!group) return false;
      group.setAttribute('role', 'group');
      group.setAttribute('aria-labelledby', ident(head, 'sk-q-'));
      if (described) group.setAttribute('aria-describedby', described);
      return true;
    }
    const input = box.querySelector(':scope > .widget-inline-hbox > :is(input, textarea, select)');
    if (!input) return false;
    if (described) input.setAttribute('aria-describedby', described);
    return true;
  }
  function scan() {
    pending = false;
    document.querySelectorAll('.jp-Notebook:not([data-sk-keys])').forEach(nb => {
      nb.setAttribute('data-sk-keys', '');
      nb.addEventListener('keydown', guard);
    });
    document.querySelectorAll('.sk-prompt:not([data-sk-a11y])').forEach(box => {
      if (name(box)) box.setAttribute('data-sk-a11y', '');
    });
  }
  const later = () => { if (!pending) { pending = true; requestAnimationFrame(scan); } };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
  window.__skForm = {scan};
  scan();
})();
"""


def script_output() -> dict[str, object]:
    return {"output_type": "display_data", "metadata": {},
            "data": {"application/javascript": FORM_JS, "text/plain": ""}}


def stylesheet_html() -> str:
    """The stylesheet plus the marker element its rules look for (one HTML output)."""
    return f"<div class='{MARKER} {OUT}' hidden></div><style>{CSS}</style>"


def show_stylesheet() -> None:
    """Show the stylesheet (the workbook's first output: its parameters cell calls this)."""
    from IPython.display import display

    global _shown
    _shown = True
    display({"text/html": stylesheet_html(), "text/plain": ""}, raw=True)
    display(script_output()["data"], raw=True)


def stylesheet_shown() -> bool:
    return _shown


# Shown by the LAST cell (kernel/form.py ``focus_top``): from then on the workbook's cells are
# laid out in full instead of estimated (JupyterLab's content-visibility), so a section link or
# a focused box lands exactly where it should; during Run All the estimate keeps it fast.
SETTLED_CSS = f"{CELL} {{ content-visibility: visible !important; }}"


def settled_output() -> dict[str, object]:
    return {"text/html": f"<div class='{OUT} sk-settled' hidden></div><style>{SETTLED_CSS}</style>",
            "text/plain": ""}


def quiet_output() -> dict[str, object]:
    """An invisible output that marks a cell as the workbook's own before it first runs."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": f"<div class='{OUT} sk-quiet' hidden></div>", "text/plain": ""}}


def stylesheet_output() -> dict[str, object]:
    """The stylesheet as a display_data output (generation puts it in the setup cell)."""
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": stylesheet_html(), "text/plain": ""}}


def marked(html_text: str) -> str:
    """HTML output content marked as the workbook's own (its cell then hides its code line)."""
    return f"<div class='{OUT}'>{html_text}</div>"


def icon(name: str) -> str:
    """A Font Awesome icon (decorative: screen readers skip it)."""
    return f"<i class='fa fa-{html.escape(name)}' aria-hidden='true'></i>"
