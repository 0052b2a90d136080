"""What every page says to assistive technology: the page title and a failed form's error summary.

* `{% page_title %}…{% endpage_title %}` (base.html) wraps the page's title block: it puts
  "Feil: " before it when a submitted form on the page has errors (or the view set `page_error`:
  a page whose news is a failure no form holds, such as an expired link or a file's bad rows), and
  the firm's name after it on a company page (unless the title names the firm already), then
  " · Dynamik".
* `{% error_summary form formset … %}` at the top of a form: after a failed submit, every problem
  in one list (role="alert", focused by static/js/app.js), each field's problem a link to the field.
  `notes=` adds problems no field holds (a string or a list of them), `hint=` a sentence under
  the list, `title=` another heading than "Nothing was saved…".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django import forms, template
from django.core.exceptions import NON_FIELD_ERRORS
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def _failed(value: object) -> bool:
    """Whether `value` is a submitted form or formset that did not validate."""
    if isinstance(value, forms.BaseForm):
        return value.is_bound and bool(value.errors)
    if isinstance(value, forms.BaseFormSet):
        return value.is_bound and value.total_error_count() > 0
    return False


def page_has_errors(context: template.Context) -> bool:
    """Whether any form or formset in the template context was submitted with errors, or the view
    said the page reports a failure (`page_error`)."""
    values = context.flatten()
    return bool(values.get("page_error")) or any(_failed(value) for value in values.values())


class PageTitleNode(template.Node):
    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> SafeString:
        title = self.nodelist.render(context).strip()
        company = getattr(context.get("request"), "company", None)
        parts = [title] if title else []
        if company is not None:
            name = conditional_escape(company.name)
            if name not in title:
                parts.append(name)
        parts.append("Dynamik")
        text = " · ".join(parts)
        if page_has_errors(context):
            text = conditional_escape(_("Error: %(title)s")) % {"title": text}
        return mark_safe(text)  # noqa: S308 - the parts are rendered template output or escaped


@register.tag
def page_title(parser: template.base.Parser, token: template.base.Token) -> PageTitleNode:
    """{% page_title %}{% block title %}{% endblock %}{% endpage_title %}: see the module."""
    nodelist = parser.parse(("endpage_title",))
    parser.delete_first_token()
    return PageTitleNode(nodelist)


def _field_target(bound: forms.BoundField) -> str:
    """The id a summary link points at: the input itself (a radio group's first choice)."""
    return bound.id_for_label or f"{bound.auto_id}_0"


def _form_problems(form: forms.BaseForm, prefix: str = "") -> Iterator[dict[str, str]]:
    for error in form.non_field_errors():
        yield {"text": f"{prefix}{error}", "target": ""}
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            continue
        bound = form[name]
        label = bound.label or name
        for error in errors:
            yield {"text": f"{prefix}{label}: {error}", "target": _field_target(bound)}


def summary_problems(*candidates: Any) -> list[dict[str, str]]:
    """Every problem of the given forms and formsets, in order: {"text", "target" (an id or "")}."""
    problems: list[dict[str, str]] = []
    for candidate in candidates:
        if not _failed(candidate):
            continue
        if isinstance(candidate, forms.BaseFormSet):
            problems.extend({"text": str(e), "target": ""} for e in candidate.non_form_errors())
            for number, form in enumerate(candidate.forms, start=1):
                line = _("Line %(number)s") % {"number": number}
                problems.extend(_form_problems(form, prefix=f"{line}, "))
        else:
            problems.extend(_form_problems(candidate))
    return problems


@register.simple_tag
def error_summary(
    *candidates: Any, notes: str | Sequence[str] | None = None, hint: str = "", title: str = ""
) -> str:
    """The error summary of the given forms and formsets and `notes` ('' when there is nothing
    to say): see the module."""
    problems = summary_problems(*candidates)
    if isinstance(notes, str):
        notes = [notes] if notes else []
    problems.extend({"text": str(note), "target": ""} for note in notes or [])
    if not problems:
        return ""
    context = {"problems": problems, "hint": hint, "title": title}
    return render_to_string("_error_summary.html", context)
