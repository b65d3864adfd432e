import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Tests log in often; a fast hasher keeps the suite quick (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mfa_passed(monkeypatch):
    """Treat every session as having passed TOTP, for tests about something else.

    Directors and administrators must pass two-factor; the login tests cover that path for real.
    """
    monkeypatch.setattr("openiop.accounts.middleware.is_mfa_verified", lambda request: True)
