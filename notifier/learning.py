"""Passing builds, remembered: the signature of each one's lines, kept per lane (trigger and
branch) in the state store, recalled when a build of the lane fails.

Per lane, one small index document names the builds kept in `PASSING_BUILDS_KEPT` slots,
and each slot is its own document (a signature can be hundreds of kilobytes for a build of
hundreds of steps; a Firestore document holds 1 MiB). A slot is taken in the index first
(atomically, so concurrent passing builds get different slots) and written second; a reader
uses a slot only when its document names the build the index does, so a half-written slot
is skipped, never misread.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from analyzers.signature import PassingLines, Signature, SignatureError, signature_of_log
from buildlens_core.build import BuildEvent
from buildlens_core.buildlog import BuildLog
from buildlens_core.settings import LearningSettings
from buildlens_core.state import Doc, StateStore
from notifier.history import build_stamp, has_lane, lane_key

# Base64 adds a third: 384 KiB of filters is a 512 KiB document, half Firestore's limit.
MAX_SIGNATURE_BYTES = 384 << 10
SIGNATURE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Learned:
    action: Literal["learned", "duplicate", "skipped"]
    reason: str = ""
    size_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Recalled:
    passing: PassingLines | None
    notes: tuple[str, ...] = ()  # slots that could not be read


class PassingMemory:
    def __init__(self, store: StateStore, settings: LearningSettings, retention_days: float):
        self._store = store
        self._settings = settings
        self._ttl_s = retention_days * 86400

    @property
    def enabled(self) -> bool:
        return self._settings.learn_from_passing

    def sampled(self, build: BuildEvent) -> bool:
        """Is this passing build one to learn from? The same answer on every delivery of a
        build (a hash of its id, not a random draw)."""
        rate = self._settings.learn_sample_rate
        if rate >= 1.0:
            return True
        digest = hashlib.sha256(build.id.encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    def reason_to_skip(self, build: BuildEvent) -> str:
        """Why this passing build's log is not read, or "" to learn from it."""
        if not has_lane(build):
            return "the build names no trigger or repository to learn for"
        if not self.sampled(build):
            return "not sampled for learning (LEARN_SAMPLE_RATE)"
        if self.learned(build):
            return "its lines were learned before"
        return ""

    def learned(self, build: BuildEvent) -> bool:
        """Is this build's signature stored already (a redelivery)?"""
        index = self._store.get(_index_key(build)) or {}
        for i, entry in enumerate(_slots(index, self._kept)):
            if entry and entry.get("build") == build.id:
                doc = self._store.get(_slot_key(build, i)) or {}
                return doc.get("build") == build.id
        return False

    def learn(self, build: BuildEvent, log: BuildLog) -> Learned:
        if not log.lines:
            return Learned("skipped", "the passing build has no log lines to learn from")
        signature = signature_of_log(log)
        signature.shrink_to(MAX_SIGNATURE_BYTES)
        stamp = build_stamp(build)
        taken: list[int | None] = [None]

        def change(doc: Doc | None) -> Doc:
            slots = _slots(doc or {}, self._kept)
            taken[0] = _pick_slot(slots, build.id, stamp)
            if taken[0] is not None:
                slots[taken[0]] = {"build": build.id, "time": stamp}
            return {"slots": slots}

        self._store.update(_index_key(build), change, self._ttl_s)
        slot = taken[0]
        if slot is None:
            return Learned("skipped", f"older than the {self._kept} passing builds kept")
        doc = {
            "version": SIGNATURE_VERSION,
            "build": build.id,
            "commit": build.commit_sha,
            "time": stamp,
            "lines": signature.lines,
            "steps": signature.to_doc(),
        }
        self._store.put(_slot_key(build, slot), doc, self._ttl_s)
        return Learned("learned", f"slot {slot}", signature.size_bytes)

    def recall(self, build: BuildEvent) -> Recalled:
        """What the lane's remembered passing builds printed (none: `passing` is None)."""
        if not has_lane(build):
            return Recalled(None)
        index = self._store.get(_index_key(build)) or {}
        signatures: list[Signature] = []
        notes: list[str] = []
        for i, entry in enumerate(_slots(index, self._kept)):
            if not entry or entry.get("build") == build.id:
                continue
            doc = self._store.get(_slot_key(build, i)) or {}
            if doc.get("build") != entry.get("build"):
                continue  # being rewritten by a newer passing build
            try:
                if doc.get("version") != SIGNATURE_VERSION:
                    raise SignatureError(f"version {doc.get('version')!r}")
                signatures.append(Signature.from_doc(doc.get("steps")))
            except SignatureError as exc:
                notes.append(f"passing build {entry.get('build')} not compared: {exc}")
        passing = PassingLines(signatures)
        return Recalled(passing if passing else None, tuple(notes))

    @property
    def _kept(self) -> int:
        return self._settings.passing_builds_kept


def _index_key(build: BuildEvent) -> str:
    return f"passing/{lane_key(build)}"


def _slot_key(build: BuildEvent, slot: int) -> str:
    return f"passing/{lane_key(build)}/{slot}"


def _slots(doc: Doc, kept: int) -> list[dict[str, Any] | None]:
    """The index's slots, as many as PASSING_BUILDS_KEPT now says (a change resizes)."""
    found = doc.get("slots")
    slots = [s if isinstance(s, dict) else None for s in found] if isinstance(found, list) else []
    return (slots + [None] * kept)[:kept]


def _pick_slot(slots: list[dict[str, Any] | None], build_id: str, stamp: str) -> int | None:
    """The build's own slot, else an empty one, else the oldest one if this build is newer
    (a passing build delivered late never pushes out newer ones)."""
    for i, entry in enumerate(slots):
        if entry and entry.get("build") == build_id:
            return i
    for i, entry in enumerate(slots):
        if not entry:
            return i
    oldest = min(range(len(slots)), key=lambda i: str((slots[i] or {}).get("time", "")))
    return oldest if str((slots[oldest] or {}).get("time", "")) < stamp else None
