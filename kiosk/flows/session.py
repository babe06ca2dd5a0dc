"""The resident session: created at login, wiped at logout, card removal or idle timeout.

Everything personal that the kiosk holds about the person at the screen lives
in one Session object, so wiping it is one call and a test can check that
nothing is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.core.person import Person

log = logging.getLogger("kiosk.session")


@dataclass
class Session:
    person: Person | None = None
    elder_mode: bool = False
    started_at: float = 0.0
    # Results of this visit (enquiry tables, acceptance receipts), kept for
    # reprinting while the resident is still there; wiped with the session.
    results: list[dict[str, Any]] = field(default_factory=list)
    # Working state of the flow in progress (form answers, photo, ...).
    flow_state: dict[str, Any] = field(default_factory=dict)

    @property
    def logged_in(self) -> bool:
        return self.person is not None

    def holds_personal_data(self) -> bool:
        return bool(self.person or self.results or self.flow_state)


class SessionManager:
    """Owns the current Session; announces login and logout."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.current = Session()
        self.when_login: Callable[[Person], None] | None = None
        self.when_logout: Callable[[str], None] | None = None
        # Another resident's card during a visit: asked before the visit ends
        # (the app shows a popup and calls switch_to() or keeps the visit).
        self.when_other_person: Callable[[Person], None] | None = None

    def login(self, person: Person) -> None:
        if self.current.person is not None:
            if self.current.person.id_number == person.id_number:
                # Same resident presented a second credential: keep the visit.
                log.info("session: %s presented %s as well", person.masked_id, person.source)
                return
            if self.when_other_person is not None:
                log.info(
                    "session: %s presented by another resident during the visit of %s; asking",
                    person.source,
                    self.current.person.masked_id,
                )
                self.when_other_person(person)
                return
            self.logout("another resident identified")
        self._start(person)

    def switch_to(self, person: Person) -> None:
        """End the current visit and start ``person``'s (confirmed at the screen)."""
        self.logout("another resident identified")
        self._start(person)

    def _start(self, person: Person) -> None:
        elder = self.current.elder_mode  # chosen on the attract screen before login
        self.current = Session(person=person, elder_mode=elder, started_at=self._clock())
        log.info("session: login %s via %s", person.masked_id, person.source)
        if self.when_login:
            self.when_login(person)

    def logout(self, reason: str) -> None:
        had = self.current.holds_personal_data() or self.current.elder_mode
        who = self.current.person.masked_id if self.current.person else "anonymous"
        # Replace rather than mutate: no reference to the old data survives here.
        self.current.results.clear()
        self.current.flow_state.clear()
        self.current = Session()
        if had:
            log.info("session: logout %s (%s)", who, reason)
        if self.when_logout:
            self.when_logout(reason)


class IdleTimer:
    """Idle timeout with a visible warning phase. Pure: the clock is injected."""

    def __init__(self, timeout: float, warning: float, clock: Callable[[], float] = time.monotonic) -> None:
        if warning >= timeout:
            raise ValueError("warning must be shorter than timeout")
        self.timeout = timeout
        self.warning = warning
        self._clock = clock
        self._last = clock()

    def touch(self) -> None:
        self._last = self._clock()

    def remaining(self) -> float:
        return max(0.0, self.timeout - (self._clock() - self._last))

    @property
    def state(self) -> str:
        """'active', 'warning' (show the countdown) or 'expired'."""
        left = self.remaining()
        if left <= 0:
            return "expired"
        if left <= self.warning:
            return "warning"
        return "active"
