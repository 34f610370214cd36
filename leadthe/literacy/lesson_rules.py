"""The "Your company's AI rules" lesson: its body carries the marker ``[[company-ai-rules]]`` (a paragraph of its
own), which the lesson page replaces with the reader's company's current AI-use policy and approved tools
(``{{ lesson.body_html|company_ai_rules }}``). The policy text was sanitised when it was saved, the rest is
escaped by the template; a company without a policy or tools gets a fallback that says whom to ask.
Only the reader's own company's content is shown (the tenant scoping of ``policy`` and ``tools``)."""
from __future__ import annotations

from flask import get_template_attribute
from flask_login import current_user
from markupsafe import Markup

from leadthe.literacy import bp, policy, tools

MARKER = "<p>[[company-ai-rules]]</p>"


def _demoted(html: str) -> str:
    """The policy's headings one level down, under the lesson's own section heading."""
    for level in (4, 3, 2):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(f"</h{level}>", f"</h{level + 1}>")
    return html


@bp.app_template_filter("company_ai_rules")
def company_ai_rules(body_html: str) -> Markup:
    """The lesson body with the marker replaced (a body without it is returned unchanged, without a query)."""
    body_html = body_html or ""
    if MARKER not in body_html:
        return Markup(body_html)
    org_id = getattr(current_user, "org_id", None) if getattr(current_user, "is_authenticated", False) else None
    current = policy.current_version(org_id) if org_id else None
    approved = tools.tools_for_people(org_id)[0] if org_id else []
    block = get_template_attribute("literacy/_company_rules.html", "company_rules")(
        current, Markup(_demoted(current.body_html)) if current else "", approved, bool(org_id))
    return Markup(body_html.replace(MARKER, block, 1))
