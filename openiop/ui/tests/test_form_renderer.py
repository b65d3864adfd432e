"""Form widgets render from Django's Jinja2 widget templates, with the same HTML as before."""

import pytest
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template.backends.django import Template as DjangoTemplate
from django.template.backends.jinja2 import Template as Jinja2Template
from django.test.html import parse_html

from openiop.audit.forms import AuditFilterForm
from openiop.ui.form_renderer import JinjaFirstRenderer


def test_the_project_renders_widgets_jinja2_first() -> None:
    assert settings.FORM_RENDERER == "openiop.ui.form_renderer.JinjaFirstRenderer"
    assert isinstance(get_default_renderer(), JinjaFirstRenderer)


def test_a_widget_uses_jinja2_and_an_admin_only_template_falls_back_to_django() -> None:
    renderer = JinjaFirstRenderer()
    widget = renderer.get_template("django/forms/widgets/select.html")
    admin = renderer.get_template("admin/widgets/related_widget_wrapper.html")
    assert isinstance(widget, Jinja2Template) and isinstance(admin, DjangoTemplate)


@pytest.mark.parametrize(
    "data",
    [{}, {"patient": "S01<b>", "date_from": "2026-02-30", "outcome": "denied"}],
    ids=["empty", "typed-and-invalid"],
)
def test_a_form_renders_the_same_html_as_with_the_django_renderer(data: dict[str, str]) -> None:
    jinja_first = AuditFilterForm(data or None, renderer=JinjaFirstRenderer())
    django = AuditFilterForm(data or None, renderer=DjangoTemplates())
    for name in django.fields:
        assert parse_html(str(jinja_first[name])) == parse_html(str(django[name])), name
    if data:
        assert 'value="S01&lt;b&gt;"' in str(jinja_first["patient"])  # kept, escaped


def test_an_admin_widget_still_renders_from_its_django_template() -> None:
    from django.contrib.admin.widgets import AdminDateWidget

    html = AdminDateWidget().render("start", "2026-01-05", renderer=get_default_renderer())
    assert parse_html(html) == parse_html(
        AdminDateWidget().render("start", "2026-01-05", renderer=DjangoTemplates())
    )
    assert 'class="vDateField"' in html and 'value="2026-01-05"' in html
