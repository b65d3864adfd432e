"""Who came to each session, kept compactly while the network is written (build writes the rows,
documentation writes a note section for each)."""

from __future__ import annotations

from array import array
from typing import Any


class AttendedRows:
    """The attendance rows of people who came (present, late, left early), kept compactly in
    arrays (about 30 bytes a row) so notes can be written per session without reading them back."""

    STATUSES = ("present", "late", "left_early")

    def __init__(self) -> None:
        self.ids = array("q")
        self.sessions = array("q")
        self.stays = array("l")
        self.minutes = array("l")
        self.statuses = array("b")
        self.block_starts: list[int] = []  # where each track's rows (then the appointments') start
        self._block: object = None

    def add(self, row: dict[str, Any]) -> None:
        status = row["status"]
        if status in self.STATUSES:
            if row["_block"] != self._block:
                self._block = row["_block"]
                self.block_starts.append(len(self.ids))
            self.ids.append(row["id"])
            self.sessions.append(row["session_id"])
            self.stays.append(row["_stay"])
            self.minutes.append(row["minutes_attended"])
            self.statuses.append(self.STATUSES.index(status))

    def __len__(self) -> int:
        return len(self.ids)
