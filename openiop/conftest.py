import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Tests log in often; a fast hasher keeps the suite quick (production keeps PBKDF2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
