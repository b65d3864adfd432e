from __future__ import annotations

from django import forms


class LoginForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class CodeForm(forms.Form):
    """The two-factor check at login: a code from the app, or a recovery code (abcd-efgh)."""

    token = forms.CharField(
        label="6-digit code from your authenticator app, or a recovery code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ReplaceForm(forms.Form):
    """A new authenticator replaces the old one with a code from each (or a recovery code)."""

    token = forms.CharField(
        label="6-digit code from the new authenticator",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
    current = forms.CharField(
        label="Code from your current authenticator, or a recovery code",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
