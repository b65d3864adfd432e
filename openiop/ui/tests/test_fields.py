"""Every date field of every form follows the one date policy (ui.fields, core.dates)."""

import datetime as dt

import pytest
from django import forms

from openiop.core.dates import DateKind
from openiop.ui.fields import KindDateField, WeekField, date_field


def _form_classes() -> list[type[forms.BaseForm]]:
    import openiop.admissions.forms
    import openiop.attendance.forms
    import openiop.audit.forms
    import openiop.episodes.forms
    import openiop.notes.forms
    import openiop.patients.forms
    import openiop.programs.forms
    import openiop.treatment.forms

    modules = [
        openiop.admissions.forms,
        openiop.attendance.forms,
        openiop.audit.forms,
        openiop.episodes.forms,
        openiop.notes.forms,
        openiop.patients.forms,
        openiop.programs.forms,
        openiop.treatment.forms,
    ]
    found = []
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_date_field_has_a_kind() -> None:
    date_fields = [
        (form.__name__, name, field)
        for form in _form_classes()
        for name, field in vars(form).get("base_fields", {}).items()
        if isinstance(field, forms.DateField)
    ]
    assert len(date_fields) >= 20
    plain = [(f, n) for f, n, field in date_fields if not isinstance(field, KindDateField)]
    assert plain == []


def test_a_date_of_birth_of_0001_is_refused_with_the_range() -> None:
    field = date_field("Date of birth", DateKind.BIRTH)
    with pytest.raises(forms.ValidationError, match="between 1900-01-01 and"):
        field.clean("0001-01-01")
    assert field.clean("03/14/1990") == dt.date(1990, 3, 14)


def test_week_field_refuses_weeks_past_the_calendar_and_far_from_today() -> None:
    field = WeekField(required=False)
    assert field.clean("") is None
    with pytest.raises(forms.ValidationError, match="not an ISO week"):
        field.clean("9999-W52")
    with pytest.raises(forms.ValidationError, match="Choose a week between"):
        field.clean("1970-W01")
    assert str(field.clean("2026-w07")) == "2026-W07"


@pytest.mark.parametrize(
    ("form_path", "data", "field"),
    [
        (
            "openiop.admissions.forms.PublicInquiryForm",
            {"date_of_birth": "0001-01-01"},
            "date_of_birth",
        ),
        ("openiop.admissions.forms.InquiryForm", {"date_of_birth": "0001-01-01"}, "date_of_birth"),
        ("openiop.audit.forms.AuditFilterForm", {"date_to": "9999-12-31"}, "date_to"),
    ],
)
def test_forms_that_took_any_date_now_refuse_implausible_ones(
    form_path: str, data: dict[str, str], field: str
) -> None:
    module, _, name = form_path.rpartition(".")
    form_class = getattr(__import__(module, fromlist=[name]), name)
    form = form_class(data)
    form.is_valid()
    assert field in form.errors
    assert "must be between" in form.errors[field][0]


def test_parse_id_takes_only_what_the_database_can_hold() -> None:
    from openiop.ui.fields import parse_id

    assert parse_id("42") == 42
    assert parse_id("9" * 18) == int("9" * 18)
    for bad in ("", "0", "-1", "9" * 19, "²", "١٢", "4 2", "x", None):
        assert parse_id(bad) is None, bad


def test_every_integer_field_is_bounded_by_what_the_database_stores() -> None:
    """A plain IntegerField passes 10**23 on to the query or the save (a 500)."""
    import openiop.measures.forms
    from openiop.ui.fields import MAX_ID

    classes = [*_form_classes()] + [
        v
        for v in vars(openiop.measures.forms).values()
        if isinstance(v, type) and issubclass(v, forms.BaseForm)
    ]
    integer_fields = [
        (form.__name__, name, field)
        for form in classes
        for name, field in vars(form).get("base_fields", {}).items()
        if isinstance(field, forms.IntegerField)
    ]
    assert len(integer_fields) >= 25
    unbounded = [
        (f, n)
        for f, n, field in integer_fields
        if (
            field.max_digits is None
            if isinstance(field, forms.DecimalField)
            else field.max_value is None or field.max_value > MAX_ID
        )
    ]
    assert unbounded == []


def test_whole_number_field_refuses_a_number_too_large_to_store() -> None:
    from openiop.ui.fields import MAX_WHOLE_NUMBER, WholeNumberField

    field = WholeNumberField(required=False)
    assert field.clean("7") == 7
    with pytest.raises(forms.ValidationError, match="less than or equal to 2147483647"):
        field.clean("99999999999999999999999")
    assert WholeNumberField(max_value=10**30).max_value == MAX_WHOLE_NUMBER
