"""Firestore state: shared by every function instance, so exactly-once holds across them.

Claims are created with a create-if-absent write (one caller wins, without transaction
contention); an expired lease is taken over only if the document is unchanged since it was
read. Documents carry `expire_at`, for a Firestore TTL policy on that field:

    gcloud firestore fields ttls update expire_at --collection-group=buildlens_state --enable-ttl
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from buildlens_core.errors import TransientError
from buildlens_core.state import Doc
from notifier.retry import retry_call

if TYPE_CHECKING:
    from buildlens_core.settings import Settings

COLLECTION = "buildlens_state"


def doc_id(key: str) -> str:
    """Firestore ids cannot contain `/`; keep them readable in the console."""
    return key.replace("%", "%25").replace("/", "%2F")


class StateUnavailable(TransientError):
    """Firestore did not answer; Pub/Sub redelivery retries the whole event."""


class FirestoreStateStore:
    def __init__(self, project: str, retention_days: float, database: str = "(default)") -> None:
        from google.api_core.retry import Retry
        from google.cloud import firestore

        # Short, bounded calls: an outage becomes a redelivery in seconds, not a 60 s hang.
        self._rpc: dict[str, Any] = {"timeout": 5.0, "retry": Retry(maximum=1.0, timeout=8.0)}
        self._client = firestore.Client(project=project or None, database=database)
        self._collection = self._client.collection(COLLECTION)
        self._retention = timedelta(days=retention_days)

    def _ref(self, key: str) -> Any:
        return self._collection.document(doc_id(key))

    def claim(self, key: str, lease_s: float = 300.0) -> bool:
        from google.api_core import exceptions as gexc

        now = datetime.now(UTC)
        lease = {
            "state": "claimed",
            "lease_until": now + timedelta(seconds=lease_s),
            "expire_at": now + self._retention,
        }
        ref = self._ref(key)
        with _transient("claim"):
            try:
                ref.create(lease, **self._rpc)
                return True
            except gexc.Conflict:  # AlreadyExists
                pass
            snapshot = ref.get(**self._rpc)
            if not snapshot.exists:
                try:
                    ref.create(lease, **self._rpc)
                    return True
                except gexc.Conflict:
                    return False
            data = snapshot.to_dict() or {}
            until = data.get("lease_until")
            if data.get("state") == "done" or (until is not None and until > now):
                return False
            try:  # the holder's lease ran out: take over unless someone else just did
                option = self._client.write_option(last_update_time=snapshot.update_time)
                ref.update(lease, option=option, **self._rpc)
                return True
            except (gexc.FailedPrecondition, gexc.NotFound):
                return False

    def is_done(self, key: str) -> bool:
        with _transient("read"):
            snapshot = self._ref(key).get(**self._rpc)
        return bool(snapshot.exists and (snapshot.to_dict() or {}).get("state") == "done")

    def complete(self, key: str) -> None:
        with _transient("complete"):
            now = datetime.now(UTC)
            self._ref(key).set(
                {"state": "done", "lease_until": None, "expire_at": now + self._retention},
                **self._rpc,
            )

    def release(self, key: str) -> None:
        with _transient("release"):
            self._ref(key).delete(**self._rpc)

    def get(self, key: str) -> Doc | None:
        with _transient("get"):
            snapshot = self._ref(key).get(**self._rpc)
        return _live(snapshot.to_dict() if snapshot.exists else None)

    def put(self, key: str, doc: Doc, ttl_s: float | None = None) -> None:
        with _transient("put"):
            self._ref(key).set({"doc": doc, "expire_at": self._expiry(ttl_s)}, **self._rpc)

    def update(
        self, key: str, change: Callable[[Doc | None], Doc], ttl_s: float | None = None
    ) -> Doc:
        """Compare-and-swap on the document's update time, retried with jitter: no
        transaction locks, so concurrent updaters never deadlock (the emulator's do)."""
        from google.api_core import exceptions as gexc

        ref = self._ref(key)

        def attempt() -> Doc:
            snapshot = ref.get(**self._rpc)
            new = change(_live(snapshot.to_dict() if snapshot.exists else None))
            data = {"doc": new, "expire_at": self._expiry(ttl_s)}
            if snapshot.exists:
                option = self._client.write_option(last_update_time=snapshot.update_time)
                ref.update(data, option=option, **self._rpc)
            else:
                ref.create(data, **self._rpc)
            return new

        with _transient("update"):
            return retry_call(
                attempt,
                attempts=30,
                is_transient=lambda e: isinstance(
                    e, gexc.FailedPrecondition | gexc.Conflict | gexc.NotFound
                ),
                base_delay_s=0.02,
                max_delay_s=0.5,
            )

    def _expiry(self, ttl_s: float | None) -> datetime:
        now = datetime.now(UTC)
        return now + (timedelta(seconds=ttl_s) if ttl_s is not None else self._retention)


def _live(data: dict[str, Any] | None) -> Doc | None:
    # TTL deletion can lag by a day: treat expired documents as gone.
    if not data or "doc" not in data:
        return None
    expire_at = data.get("expire_at")
    if expire_at is not None and expire_at <= datetime.now(UTC):
        return None
    doc: Doc = data["doc"]
    return doc


@contextmanager
def _transient(what: str) -> Iterator[None]:
    """Turn Firestore outages into `StateUnavailable` (so the event is redelivered)."""
    from google.api_core import exceptions as gexc

    transient = (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.RetryError,
                 gexc.Aborted, gexc.InternalServerError, gexc.TooManyRequests,
                 gexc.FailedPrecondition, gexc.Conflict, OSError, TimeoutError)  # fmt: skip
    try:
        yield
    except transient as exc:
        raise StateUnavailable(f"Firestore {what} failed: {exc.__class__.__name__}") from exc


def create(settings: Settings) -> FirestoreStateStore:
    return FirestoreStateStore(
        settings.cloud.google_cloud_project,
        settings.state.history_retention_days,
        settings.state.firestore_database,
    )
