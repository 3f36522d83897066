"""The complete log Cloud Build writes to its logs bucket: `gs://bucket[/prefix]/log-<id>.txt`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog, LogAccumulator, build_log
from notifier.logsources.base import LogNotFound, LogUnavailable
from notifier.retry import retry_call

if TYPE_CHECKING:
    from buildlens_core.settings import Settings


def object_path(logs_bucket: str, build_id: str) -> tuple[str, str]:
    """`gs://bucket/prefix` -> ("bucket", "prefix/log-<id>.txt")."""
    if not logs_bucket.startswith("gs://") or len(logs_bucket) <= len("gs://"):
        raise LogNotFound(f"logsBucket {logs_bucket!r} is not a gs:// URL")
    bucket, _, prefix = logs_bucket[len("gs://") :].partition("/")
    name = f"log-{build_id}.txt"
    return bucket, f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name


class _Feed:
    """A write-only file object that feeds a download straight into the accumulator,
    and stops it once the fetch's deadline has passed."""

    def __init__(self, acc: LogAccumulator, deadline: float) -> None:
        self._acc = acc
        self._deadline = deadline

    def write(self, data: bytes) -> int:
        if time.monotonic() > self._deadline:
            raise LogUnavailable("the GCS download did not finish before LOG_FETCH_DEADLINE_S")
        self._acc.feed(bytes(data))
        return len(data)


class GcsLogSource:
    name = "gcs"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def _storage(self) -> Any:
        if self._client is None:
            import google.cloud.storage as storage  # imported here: only when configured

            self._client = storage.Client(project=self._settings.cloud.google_cloud_project or None)
        return self._client

    def fetch(self, build: BuildEvent) -> BuildLog:
        if not build.logs_bucket:
            raise LogNotFound("the build has no logsBucket")
        bucket, name = object_path(build.logs_bucket, build.id)
        uri = f"gs://{bucket}/{name}"
        deadline = time.monotonic() + self._settings.sources.log_fetch_deadline_s

        def attempt() -> BuildLog:
            acc = LogAccumulator(self._settings.sources.max_log_bytes)
            self._download(bucket, name, acc, deadline)
            return build_log(acc, uri)

        return retry_call(
            attempt,
            attempts=self._settings.sources.log_fetch_attempts,
            is_transient=lambda e: isinstance(e, LogUnavailable),
            deadline=deadline,
        )

    def _download(self, bucket: str, name: str, acc: LogAccumulator, deadline: float) -> None:
        from google.api_core import exceptions as gexc
        from google.resumable_media import common as media

        blob = self._storage().bucket(bucket).blob(name)
        try:
            # Our own retry restarts from byte 0 with a fresh accumulator.
            blob.download_to_file(
                _Feed(acc, deadline), retry=None, timeout=self._settings.sources.log_fetch_timeout_s
            )
        except gexc.NotFound:
            raise LogNotFound(f"gs://{bucket}/{name} does not exist") from None
        except gexc.Forbidden:
            raise LogNotFound(
                f"no permission to read gs://{bucket}/{name}: grant the function's service "
                "account roles/storage.objectViewer on the logs bucket"
            ) from None
        except (gexc.TooManyRequests, gexc.ServerError, gexc.RetryError) as exc:
            raise LogUnavailable(f"GCS answered {exc.__class__.__name__}: {exc}") from None
        except media.InvalidResponse as exc:
            raise LogUnavailable(f"GCS answered an invalid response: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise LogUnavailable(f"GCS download failed: {exc.__class__.__name__}") from None


def create(settings: Settings) -> GcsLogSource:
    return GcsLogSource(settings)
