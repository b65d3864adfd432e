"""The project's settings with a two-second worker lease, for the worker subprocess test
(test_worker_subprocess.py): workers beat every half second and give up on each other in two."""

from openiop.config.settings import *  # noqa: F403

OPENIOP_WORKER_LEASE_SECONDS = 2
