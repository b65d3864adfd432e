from openiop.notes.tests.conftest import clinic  # noqa: F401  (the same fictional clinic)
