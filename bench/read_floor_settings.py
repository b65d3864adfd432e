"""Settings of the app bench/read_floor.py serves: OpenIOP's own, with bench/read_floor_urls.py's
probes in front of its URLs. With READ_FLOOR_NO_SYNC=1 the database connections commit without
waiting for the WAL flush (synchronous_commit off): a diagnostic server only, never the app's."""

import os

from openiop.config.settings import *  # noqa: F403
from openiop.config.settings import DATABASES

ROOT_URLCONF = "read_floor_urls"

if os.environ.get("READ_FLOOR_NO_SYNC") == "1":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
