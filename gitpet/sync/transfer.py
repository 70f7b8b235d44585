"""Push and fetch: the remote half of :class:`~gitpet.GitStore`.

The rule both ways is that no version is ever lost. A class ref moves on the
receiving side only when the move keeps every version it had: a fast-forward,
or, when both sides added versions, the receiving side's history with the
sender's missing versions replayed on top (:func:`gitpet.git.history.replay`).
Tags never move silently. The remote's refs change only by the
compare-and-swap the git protocol carries (old id, new id), so a racing
pusher is detected, never overwritten: we fetch, reconcile, and push again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dulwich.client import GitClient, LocalGitClient
from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref
from dulwich.repo import Repo

from gitpet.errors import (
    ClassNotFoundError,
    InvalidArgumentError,
    PipelineNotFoundError,
    RemoteError,
    RemoteRejectedError,
    UnvouchedPushError,
)
from gitpet.format.names import (
    check_class_name,
    check_pipeline_name,
    class_ref,
    is_gitpet_ref,
    is_ownable_ref,
    is_pipeline_ref,
    pipeline_ref,
    pipeline_tag_prefix,
    tag_prefix,
)
from gitpet.git.commits import CommitMaker
from gitpet.git.history import (
    ObjectReader,
    first_parent_chain,
    peeled_commit,
    peeled_tree,
    replay,
)
from gitpet.git.incoming import quarantine
from gitpet.git.locks import FetchLock, LockRetry, WriterLock, log
from gitpet.git.outgoing import objects_to_send, pack_records
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.pipelines.snapshots import used_pin_set
from gitpet.progress import SILENT, Progress
from gitpet.records import RefUpdate, Status, SyncReport
from gitpet.sync.carried import CarriedVersions
from gitpet.sync.decisions import Decision, decide, is_tag
from gitpet.sync.locations import describe_location
from gitpet.sync.negotiation import HaveList, fetch_from_path
from gitpet.sync.path_push import push_to_path
from gitpet.sync.remote import DEFAULT_RETRY_FOR, connect, remote_errors
from gitpet.sync.remotes import Remotes
from gitpet.trust.vouching import Vouching

__all__ = ["SyncParts", "fetch", "push", "ref_selector"]


@dataclass(frozen=True)
class SyncParts:
    """The parts of a store a push or fetch works with."""

    repository: Repository
    refs: RefStore
    commits: CommitMaker
    vouching: Vouching
    remotes: Remotes
    retry: LockRetry
    fetching: FetchLock


RefSelector = Callable[[bytes], bool]
_BROKEN_ELSEWHERE = "another ref of the same fetch was broken, and nothing it brought is kept"
# Pauses between attempts: jittered, doubling from the first to the last.
_FIRST_PAUSE, _LONGEST_PAUSE = 0.01, 1.0


def _name_list(names: Sequence[str] | str) -> list[str]:
    # One class name alone is a common way to call push/fetch: accept it.
    if isinstance(names, str):
        return [names]
    if isinstance(names, (bytes, Mapping)) or not isinstance(names, Iterable):
        raise InvalidArgumentError("names", names, "must be a name or a list of names")
    return list(names)


def ref_selector(
    names: Sequence[str] | str | None, pipelines: Sequence[str] | str | None = None
) -> RefSelector:
    """Which refs a push or fetch moves: all of gitpet's, or those of some classes and pipelines.

    Examples:
        >>> select = ref_selector(["A"], ["p"])
        >>> refs = (b"refs/heads/A", b"refs/tags/A/v1", b"refs/heads/AB", b"refs/heads/pipelines/p")
        >>> [select(r) for r in refs]
        [True, True, False, True]
    """
    if names is None and pipelines is None:
        return is_gitpet_ref
    chosen = _name_list(names or [])
    chosen_pipelines = [check_pipeline_name(name) for name in _name_list(pipelines or [])]
    heads = {class_ref(check_class_name(name)) for name in chosen}
    heads.update(pipeline_ref(name) for name in chosen_pipelines)
    tag_spaces = tuple(tag_prefix(name) for name in chosen)
    tag_spaces += tuple(pipeline_tag_prefix(name) for name in chosen_pipelines)

    def select(ref: bytes) -> bool:
        return is_gitpet_ref(ref) and (ref in heads or ref.startswith(tag_spaces))

    return select


def _local_refs(repo: Repo | None, select: RefSelector) -> dict[bytes, bytes]:
    if repo is None:
        return {}
    return {bytes(ref): bytes(sha) for ref, sha in repo.refs.as_dict().items() if select(bytes(ref))}


# -- fetch ------------------------------------------------------------------


def fetch(
    parts: SyncParts,
    remote: str,
    names: Sequence[str] | str | None = None,
    pipelines: Sequence[str] | str | None = None,
    *,
    force_tags: bool = False,
    trusted: bool = False,
    accept_rollbacks: bool = False,
    progress: Progress = SILENT,
) -> SyncReport:
    """Bring the remote's versions of ``names`` and ``pipelines`` (default: everything) into ``store``.

    ``trusted``: vouch for every version the fetched refs' histories hold
    (for a pipeline: every version its snapshots pin).
    ``accept_rollbacks``: let a remote that is not trusted make an older
    version (or snapshot) the latest again; refused otherwise.
    ``progress`` hears of each stage.
    """
    select = ref_selector(names, pipelines)
    location = parts.remotes.location(remote)
    client, path = connect(location)
    refuse_rollbacks = not (trusted or accept_rollbacks)
    updates = _fetch_into(
        parts, client, path, location, select, force_tags, trusted, refuse_rollbacks, progress
    )
    return _finish(location, "fetch", updates)


def _fetch_into(
    parts: SyncParts,
    client: GitClient,
    path: str,
    location: str,
    select: RefSelector,
    force_tags: bool,
    trusted: bool,
    refuse_rollbacks: bool,
    progress: Progress,
) -> list[RefUpdate]:
    if not parts.repository.exists():
        # Ask first, so that an unreachable remote, or one without what we
        # want, leaves no empty store behind.
        with remote_errors(location):
            advertised = client.get_refs(path.encode()).refs
        if not any(sha is not None and select(bytes(ref)) for ref, sha in advertised.items()):
            return []
    repo = parts.repository.writable()
    with parts.fetching.held():
        return _fetch_serialized(
            parts, repo, client, path, location, select, force_tags, trusted, refuse_rollbacks, progress
        )


def _fetch_serialized(
    parts: SyncParts,
    repo: Repo,
    client: GitClient,
    path: str,
    location: str,
    select: RefSelector,
    force_tags: bool,
    trusted: bool,
    refuse_rollbacks: bool,
    progress: Progress,
) -> list[RefUpdate]:
    theirs: dict[bytes, bytes] = {}
    wanted: set[bytes] = set()  # what the remote's refs name that this store lacks
    not_ours: list[bytes] = []
    local_objects = parts.repository.objects()

    def determine_wants(refs: Mapping[Ref, ObjectID | None], depth: int | None = None) -> list[ObjectID]:
        for ref, sha in refs.items():
            if sha is None or not select(bytes(ref)):
                continue
            if is_ownable_ref(bytes(ref)):
                theirs[bytes(ref)] = bytes(sha)
            elif is_gitpet_ref(bytes(ref)):
                not_ours.append(bytes(ref))
        objects = repo.object_store
        wanted.update(sha for sha in theirs.values() if ObjectID(sha) not in objects)
        return [ObjectID(sha) for sha in sorted(wanted)]

    def moved_tips() -> list[bytes]:
        # Our tips of the refs the remote moved: its new versions most likely sit on them.
        tips = (parts.refs.read(ref) for ref, sha in sorted(theirs.items()) if sha in wanted)
        return [tip for tip in tips if tip is not None]

    with quarantine(repo.object_store, local_objects, fsync=parts.repository.fsync) as incoming:

        def receive(data: bytes) -> int:
            written = incoming.write(data)
            progress.advance(len(data))
            return written

        progress.stage("receiving", unit="bytes")
        with remote_errors(location):
            if isinstance(client, LocalGitClient):
                where = describe_location(location)
                fetch_from_path(path, where, determine_wants, local_objects, moved_tips, receive)
            else:
                haves = HaveList(local_objects, moved_tips)
                result = client.fetch_pack(path, determine_wants, haves, receive)
                if result.object_format not in (None, "sha1"):
                    raise RemoteError(
                        describe_location(location), f"it uses {result.object_format} ids; gitpet uses sha1"
                    )
        progress.stage("checking what arrived", unit="")
        try:
            incoming.unpack()
        except ValueError as err:
            raise RemoteError(describe_location(location), f"refused the pack it sent: {err}") from None
        problems = {ref: incoming.problem_with(ref, sha) for ref, sha in theirs.items()}
        arrived = incoming.fresh
        if not incoming.incomplete:
            incoming.admit()
    if not_ours:
        log.warning(
            "gitpet: ignored %d ref(s) of %s that gitpet cannot own: %s",
            len(not_ours),
            describe_location(location),
            ", ".join(repr(ref)[2:-1] for ref in sorted(not_ours)[:5]),
        )
    refused = [
        RefUpdate(
            ref.decode("utf-8"),
            "rejected",
            detail=f"refused what the remote sent: {problems[ref] or _BROKEN_ELSEWHERE}",
        )
        for ref in sorted(theirs)
        if problems[ref] or incoming.incomplete
    ]
    for update in refused:
        del theirs[update.ref.encode("utf-8")]
    if trusted:
        parts.vouching.vouch_for_histories(theirs, arrived.__contains__)
    else:
        parts.remotes.remember_fetched(location, theirs)
    progress.stage("updating refs", total=len(theirs), unit="refs")
    integrated = []
    for ref, sha in sorted(theirs.items()):
        integrated.append(_integrate(parts, repo, ref, sha, force_tags, refuse_rollbacks, arrived))
        progress.advance()
    return sorted(refused + integrated, key=lambda update: update.ref)


def _integrate(
    parts: SyncParts,
    repo: Repo,
    ref: bytes,
    theirs: bytes,
    force_tags: bool,
    refuse_rollbacks: bool,
    arrived: frozenset[bytes],
) -> RefUpdate:
    """Move a local ref towards the remote's ``theirs`` without losing a version.

    ``arrived``: the ids of the objects the fetch brought that the store did not hold.
    """
    name = ref.decode("utf-8")
    objects = repo.object_store
    while True:
        ours = parts.refs.read(ref)
        status: Status
        new_commits: list[Commit] = []
        decision = decide(objects, ref, ours, theirs, force_tags=force_tags)
        if decision is Decision.UP_TO_DATE:
            return RefUpdate(name, "up-to-date", _hex(ours), _hex(ours))
        if decision is Decision.TAG_DIFFERS:
            return RefUpdate(
                name,
                "rejected",
                _hex(ours),
                _hex(ours),
                f"the remote's tag names another version ({theirs.decode('ascii')[:12]}); "
                "fetch with force_tags=True (CLI: --force-tags) to take it",
            )
        if decision is Decision.BEHIND:
            return RefUpdate(name, "ahead", _hex(ours), _hex(ours))
        assert ours is not None or decision is Decision.CREATE
        if decision is Decision.CREATE:
            status, new = "created", theirs
        elif decision is Decision.FORCE_TAG:
            status, new = "forced", theirs
        elif decision is Decision.FAST_FORWARD:
            older = (
                _older_latest(objects, ours, theirs, arrived)
                if refuse_rollbacks and ours is not None
                else None
            )
            if older is not None:
                kind = "snapshot" if is_pipeline_ref(ref) else "version"
                return RefUpdate(
                    name,
                    "rejected",
                    _hex(ours),
                    _hex(ours),
                    f"the remote, which is not trusted, makes an older {kind} ({older.decode('ascii')[:12]}) "
                    "the latest again; "
                    "fetch with accept_rollbacks=True (CLI: --accept-rollbacks) to take it",
                )
            status, new = "fast-forward", theirs
        else:  # diverged: our versions go on top of theirs
            assert ours is not None
            new, new_commits = replay(
                objects,
                ours,
                theirs,
                parts.commits.author_line(),
                int(time.time()),
                sign=_vouched_signer(parts, repo, ref),
            )
            status = "rebased"
        if parts.refs.compare_and_swap(ref, ours, new, keep=new_commits):
            return RefUpdate(name, status, _hex(ours), _hex(new))


def _older_latest(
    objects: ObjectReader, ours: bytes, theirs: bytes, arrived: frozenset[bytes]
) -> bytes | None:
    """What a fast-forward from ``ours`` to ``theirs`` would bring back, if anything.

    Its new latest (a version or snapshot) when that is an older one of our own
    history, else None. A version new to the store was in none of its histories.
    """
    old_latest, new_latest = peeled_tree(objects, ours), peeled_tree(objects, theirs)
    if new_latest is None or new_latest == old_latest or new_latest in arrived:
        return None
    tip = peeled_commit(objects, ours)
    if tip is None:
        return None
    for commit in first_parent_chain(objects, tip):
        if commit.tree == new_latest:
            return new_latest
    return None


def _vouched_signer(parts: SyncParts, repo: Repo, ref: bytes) -> Callable[[Commit], None]:
    """Signs a replayed commit only when this machine vouches for what it holds.

    A signature says "I vouch for this code" to everyone whose policy trusts the key.
    """

    def sign(commit: Commit) -> None:
        if is_pipeline_ref(ref):
            held = {vid for _name, vid in used_pin_set(repo.object_store, commit.tree)}
        else:
            held = {commit.tree.decode("ascii")}
        if all(parts.vouching.vouches_for(vid) for vid in held):
            parts.commits.sign(commit)

    return sign


# -- push -------------------------------------------------------------------


def push(
    parts: SyncParts,
    remote: str,
    names: Sequence[str] | str | None = None,
    pipelines: Sequence[str] | str | None = None,
    *,
    force_tags: bool = False,
    allow_unvouched: bool = False,
    retry_for: float = DEFAULT_RETRY_FOR,
    progress: Progress = SILENT,
) -> SyncReport:
    """Send ``store``'s versions of ``names`` and ``pipelines`` (default: everything) to the remote.

    Unless ``allow_unvouched``, a push that would carry a version this
    machine does not vouch for sends nothing and raises :class:`UnvouchedPushError`.
    ``progress`` hears of each stage.
    """
    select = ref_selector(names, pipelines)
    repo = parts.repository.open()
    local = _local_refs(repo, select)
    for name in _name_list(names or []):
        if class_ref(name) not in local:
            raise ClassNotFoundError(name, f"store {parts.repository.path}")
    for name in _name_list(pipelines or []):
        if pipeline_ref(name) not in local:
            raise PipelineNotFoundError(name, f"store {parts.repository.path}")
    location = parts.remotes.location(remote)
    client, path = connect(location)
    if repo is None:
        return SyncReport(describe_location(location), "push", ())
    outcome: dict[bytes, RefUpdate] = {}
    reconciled: set[bytes] = set()
    started = time.monotonic()
    pause = _FIRST_PAUSE
    attempts = 0
    refused_before: dict[bytes, tuple[bytes | None, str]] = {}
    while True:
        attempts += 1
        this_round: dict[bytes, RefUpdate] = {}
        server_errors: dict[bytes, tuple[bytes | None, str]] = {}
        unvouched: list[tuple[str, str]] = []
        raced = _send(
            parts,
            repo,
            client,
            path,
            location,
            select,
            force_tags,
            this_round,
            server_errors,
            None if allow_unvouched else unvouched,
            progress,
        )
        if unvouched:
            raise UnvouchedPushError(describe_location(location), unvouched)
        for ref, update in this_round.items():
            # What an earlier round changed shows as up-to-date now: keep the change.
            if ref not in outcome or update.status != "up-to-date":
                outcome[ref] = update
        # A server that refuses the same update twice, the remote not having moved in
        # between, is not racing us: waiting would not help.
        refused_again = {
            ref for ref in raced if ref in server_errors and server_errors[ref] == refused_before.get(ref)
        }
        refused_before = server_errors
        elapsed = time.monotonic() - started
        for ref in raced:
            if elapsed >= retry_for or ref in refused_again:
                refused = server_errors.get(ref)
                why = f"the server refused it: {refused[1]}" if refused else "the remote kept changing"
                outcome[ref] = RefUpdate(
                    ref.decode("utf-8"),
                    "rejected",
                    detail=f"{why} ({attempts} attempts in {elapsed:.1f} s); push again",
                )
        raced = [ref for ref in raced if ref not in refused_again]
        if not raced or elapsed >= retry_for:
            break
        # Someone else pushed: after a jittered pause (so that two pushers fall out of step),
        # take their versions, put ours on top, try again.
        time.sleep(min(pause * (0.5 + random.random()), max(0.0, retry_for - elapsed)))
        pause = min(pause * 2, _LONGEST_PAUSE)
        trusted = parts.remotes.is_trusted(remote)
        _fetch_into(
            parts, client, path, location, set(raced).__contains__, False, trusted, not trusted, progress
        )
        reconciled.update(raced)
    updates = []
    for ref in sorted(outcome):
        update = outcome[ref]
        if ref in reconciled and update.status in ("fast-forward", "created"):
            update = RefUpdate(update.ref, "rebased", update.old, update.new, update.detail)
        updates.append(update)
    return _finish(location, "push", updates, attempts)


def _send(
    parts: SyncParts,
    repo: Repo,
    client: GitClient,
    path: str,
    location: str,
    select: RefSelector,
    force_tags: bool,
    outcome: dict[bytes, RefUpdate],
    server_errors: dict[bytes, tuple[bytes | None, str]],
    unvouched: list[tuple[str, str]] | None,
    meter: Progress,
) -> list[bytes]:
    """One push round: record each ref's outcome, return the refs to reconcile and push again.

    What the server said of refused ones is recorded too.

    When ``unvouched`` is a list, versions the push would carry that this
    machine does not vouch for are put in it, and nothing is sent.
    ``meter`` hears how far the sending is (dulwich's ``progress`` is the server's messages).
    """
    objects = repo.object_store
    reader = parts.repository.objects()
    local = _local_refs(repo, select)
    proposed: dict[bytes, tuple[bytes | None, bytes, Status]] = {}
    raced: list[bytes] = []

    def update_refs(remote_refs: dict[Ref, ObjectID]) -> dict[Ref, ObjectID]:
        proposed.clear()
        raced.clear()
        for ref, ours in sorted(local.items()):
            name = ref.decode("utf-8")
            theirs_id = remote_refs.get(Ref(ref))
            theirs = bytes(theirs_id) if theirs_id is not None else None
            decision = decide(objects, ref, theirs, ours, force_tags=force_tags)
            if decision is Decision.UP_TO_DATE:
                outcome[ref] = RefUpdate(name, "up-to-date", _hex(theirs), _hex(theirs))
            elif decision is Decision.CREATE:
                proposed[ref] = (None, ours, "created")
            elif decision is Decision.FORCE_TAG:
                proposed[ref] = (theirs, ours, "forced")
            elif decision is Decision.TAG_DIFFERS:
                outcome[ref] = RefUpdate(
                    name,
                    "rejected",
                    _hex(theirs),
                    _hex(theirs),
                    "the remote's tag names another version; push with force_tags=True "
                    "(CLI: --force-tags) to move it",
                )
            elif decision is Decision.FAST_FORWARD:
                proposed[ref] = (theirs, ours, "fast-forward")
            elif decision is Decision.BEHIND:
                outcome[ref] = RefUpdate(
                    name,
                    "up-to-date",
                    _hex(theirs),
                    _hex(theirs),
                    "the remote has newer versions; fetch them",
                )
            else:  # diverged: reconcile by fetching theirs, then push again
                raced.append(ref)
        if unvouched is not None:
            unvouched[:] = _unvouched(parts, objects, remote_refs, proposed)
            if unvouched:
                proposed.clear()
                raced.clear()
                return {}
        return {Ref(ref): ObjectID(new) for ref, (_old, new, _status) in proposed.items()}

    def generate_pack_data(have: Any, want: Any, *, ofs_delta: bool = False, progress: Any = None) -> Any:
        # Only the new commits are walked, not every ancestor of what the remote has.
        meter.stage("counting objects", unit="")
        ids = objects_to_send(reader, sorted(want), sorted(have))
        count, records = len(ids), pack_records(reader, ids)
        meter.stage("sending", total=count)

        def counted() -> Iterator[Any]:
            for record in records:
                yield record
                meter.advance()

        return count, counted()

    def send() -> dict[bytes, str | None]:
        with remote_errors(location):
            if isinstance(client, LocalGitClient):  # received as a fetch is (dulwich's grows with history)
                where = describe_location(location)
                return push_to_path(path, where, update_refs, reader, meter, fsync=parts.repository.fsync)
            result = client.send_pack(path.encode(), update_refs, generate_pack_data)
        return {bytes(ref): error for ref, error in (result.ref_status or {}).items()}

    # A local-path remote takes the ref locks in this process: wait for other
    # writers, and be one of that repository's gitpet writers while doing it.
    statuses = parts.retry.run(f"remote {describe_location(location)}", send, _local_writers(client, path))
    for ref, (old, new, status) in proposed.items():
        error = statuses.get(ref)
        if error is None:
            outcome[ref] = RefUpdate(ref.decode("utf-8"), status, _hex(old), _hex(new))
        elif is_tag(ref):
            outcome[ref] = RefUpdate(ref.decode("utf-8"), "rejected", _hex(old), _hex(old), error)
        else:
            # Most often the remote moved since it told us its refs: reconcile and retry.
            server_errors[ref] = (old, error)
            raced.append(ref)
    return raced


def _unvouched(
    parts: SyncParts,
    objects: ObjectReader,
    remote_refs: Mapping[Ref, ObjectID],
    proposed: Mapping[bytes, tuple[bytes | None, bytes, Status]],
) -> list[tuple[str, str]]:
    carried = CarriedVersions(objects, {bytes(ref): bytes(sha) for ref, sha in remote_refs.items()})
    versions: set[tuple[str, str]] = set()
    for ref, (old, new, _status) in proposed.items():
        versions.update(carried.of(ref, new, old))
    return sorted(v for v in versions if not parts.vouching.vouches_for(v[1]))


def _local_writers(client: GitClient, path: str) -> WriterLock | None:
    if not isinstance(client, LocalGitClient):
        return None
    gitdir = Path(path)
    if not (gitdir / "objects").is_dir() and (gitdir / ".git").is_dir():
        gitdir = gitdir / ".git"
    return WriterLock(gitdir)


def _finish(location: str, direction: str, updates: list[RefUpdate], attempts: int = 1) -> SyncReport:
    report = SyncReport(describe_location(location), direction, tuple(updates), attempts)  # type: ignore[arg-type]
    if report.rejected:
        raise RemoteRejectedError(
            report.remote, [(u.ref, u.detail or "rejected") for u in report.rejected], report
        )
    return report


def _hex(sha: bytes | None) -> str | None:
    return sha.decode("ascii") if sha is not None else None
