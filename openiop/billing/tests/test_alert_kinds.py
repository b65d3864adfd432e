"""The alerts billing raises are episode alerts: each kind the authorization rules name is a
choice of episodes.AlertKind, so the chart and Today label it instead of showing a raw value."""

from __future__ import annotations

from openiop.billing.domain.authorizations import AlertKind as BillingAlertKind
from openiop.episodes.choices import AlertKind


def test_every_kind_billing_raises_is_an_episode_alert_kind_with_a_label() -> None:
    labels = dict(AlertKind.choices)
    for kind in BillingAlertKind:
        assert kind.value in labels, kind
        assert labels[kind.value] != kind.value
