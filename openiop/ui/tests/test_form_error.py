"""form_error keeps what the user typed for rule errors and never turns a refusal into one."""

import pytest
from django import forms

from openiop.core.errors import NotPermitted, RuleViolation
from openiop.ui.views_support import form_error


class NoteForm(forms.Form):
    note = forms.CharField()


def test_a_rule_error_lands_on_its_field_and_the_input_is_kept() -> None:
    form = NoteForm({"note": "Fictional text"})
    assert form.is_valid()
    form_error(form, RuleViolation("Too short.", field="note"))
    assert form.errors["note"] == ["Too short."]
    assert form["note"].value() == "Fictional text"


def test_a_refusal_is_raised_again_not_shown_as_a_form_error() -> None:
    form = NoteForm({"note": "Fictional text"})
    assert form.is_valid()
    with pytest.raises(NotPermitted):
        form_error(form, NotPermitted("Not your patient."))
    assert not form.errors
