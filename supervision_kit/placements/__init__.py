"""Placements: competency frameworks and supervision requirements as data, evidence tagged to
competencies, the supervised-hours log, the evidence map, and the review workflow (submit,
return, comment, countersign) for records a student hands in.

Nothing here knows a prompt id or a template name: prompts say what they are for through
their annotations (``competencies``, ``duration``, ``supervision_mode``, ``credential`` …),
and frameworks and requirements are YAML files in ``templates/``. See docs/placements.md.
"""
