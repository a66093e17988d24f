"""Sign-in throttling: too many attempts from one client, or too many failures for one
address, answer 429 with `Retry-After` — counted in the view database, so every API process
shares the counts.

Counts are kept per fixed window; a window's count is estimated as its own hits plus the
previous window's, weighted by how much of the previous window still overlaps the last
`window` seconds (a sliding window, without keeping every attempt). Keys are SHA-256 digests:
the table holds no email address or IP address in clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from domain.errors import InvalidCredentialsError, InvalidValueError
from projections.db import Tx, ViewDatabase

THROTTLE_DDL = (
    "CREATE TABLE IF NOT EXISTS sign_in_throttle ("
    " key TEXT NOT NULL, slot BIGINT NOT NULL, hits INTEGER NOT NULL,"
    " PRIMARY KEY (key, slot))"
)
THROTTLE_INDEX = "CREATE INDEX IF NOT EXISTS sign_in_throttle_slot ON sign_in_throttle (slot)"


class TooManyAttemptsError(Exception):
    """Raised when a client or an address has used up its sign-in attempts for now."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many sign-in attempts {what}; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    """At most `per_client` attempts from one client address, and `per_address` failed ones
    for one account address, in any `window_seconds`."""

    per_client: int = 200
    per_address: int = 10
    window_seconds: int = 900
    forms_per_client: int = 20  # Web form submissions from one client address.


def migrate(tx: Tx) -> None:
    tx.execute(THROTTLE_DDL)
    tx.execute(THROTTLE_INDEX)


class SignInThrottle:
    """Guards the routes that take a password or a one-time secret."""

    def __init__(
        self, views: ViewDatabase, limits: Limits, clock: Callable[[], float] = time.time
    ) -> None:
        self.views = views
        self.limits = limits
        self.clock = clock

    @contextmanager
    def attempt(self, client: str, address: str | None = None) -> Iterator[None]:
        """One sign-in attempt: refused (429) when either count is used up; counted for the
        client always, and for the address when the credentials turn out wrong; a success
        clears the address's failures."""
        client_key = _key("client", client)
        address_key = _key("address", address.strip().lower()) if address else None
        counts = [(client_key, self.limits.per_client, "from your address")]
        if address_key is not None:  # Counted as a failure until the credentials turn out right.
            counts.append((address_key, self.limits.per_address, "for this account"))
        now = self._spend(counts)
        try:
            yield
        except (InvalidCredentialsError, InvalidValueError):
            raise
        except BaseException:
            if address_key is not None:  # Not a guess that was checked: give it back.
                with self.views.write() as tx:
                    self._uncount(tx, address_key, now)
            raise
        if address_key is not None:
            with self.views.write() as tx:
                tx.execute("DELETE FROM sign_in_throttle WHERE key = ?", (address_key,))

    def request(self, client: str, address: str) -> None:
        """One request that mails `address` (a sign-in link, a form's confirmation): counted
        for the client and for the address, never cleared by success; refused (429) past
        either limit."""
        self._spend([
            (_key("client", client), self.limits.per_client, "from your address"),
            (_key("mailed", address.strip().lower()), self.limits.per_address,
             "for this address"),
        ])  # fmt: skip

    def submission(self, client: str) -> None:
        """One web form submission from `client`; refused (429) past `forms_per_client`."""
        self._spend([(_key("form", client), self.limits.forms_per_client, "from your address")])

    def _spend(self, counts: list[tuple[str, int, str]]) -> float:
        """Count one attempt for each `(key, limit, what)` and drop counts past the window;
        the moment counted at. Counted first, then checked, in one transaction: the upsert
        locks the row, so concurrent attempts are counted one after another and none slips
        past a limit. An attempt refused here is not counted (the transaction rolls back)."""
        window = self.limits.window_seconds
        with self.views.write() as tx:
            now = self.clock()
            tx.execute("DELETE FROM sign_in_throttle WHERE slot < ?", (int(now // window) - 1,))
            for key, limit, what in counts:
                self._count(tx, key, limit, what, now)
        return now

    def _count(self, tx: Tx, key: str, limit: int, what: str, now: float) -> None:
        """Count one attempt for `key`; refuse it (TooManyAttemptsError) past `limit` in the
        sliding window."""
        self._hit(tx, key, now)
        window = self.limits.window_seconds
        slot = int(now // window)
        rows = {
            r["slot"]: r["hits"]
            for r in tx.all(
                "SELECT slot, hits FROM sign_in_throttle WHERE key = ? AND slot >= ?",
                (key, slot - 1),
            )
        }
        elapsed = (now - slot * window) / window
        estimate = rows.get(slot, 0) + rows.get(slot - 1, 0) * (1 - elapsed)
        if estimate > limit:
            raise TooManyAttemptsError(what, max(1, math.ceil((slot + 1) * window - now)))

    def _uncount(self, tx: Tx, key: str, now: float) -> None:
        tx.execute(
            "UPDATE sign_in_throttle SET hits = hits - 1 WHERE key = ? AND slot = ? AND hits > 0",
            (key, int(now // self.limits.window_seconds)),
        )

    def _hit(self, tx: Tx, key: str, now: float) -> None:
        tx.execute(
            "INSERT INTO sign_in_throttle (key, slot, hits) VALUES (?, ?, 1)"
            " ON CONFLICT (key, slot) DO UPDATE SET hits = sign_in_throttle.hits + 1",
            (key, int(now // self.limits.window_seconds)),
        )


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
