"""Who vouches for a version: this machine's trust list, whole fetched histories, SSH signatures.

Pipelines' pins and SSH signatures are read with modules imported on first
use: a process that loads only classes its trust list names needs neither.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from dulwich.objects import Commit

from gitpet.format.names import class_ref, is_pipeline_ref
from gitpet.git.history import first_parent_chain, first_parent_commits, peeled_commit
from gitpet.git.refstore import RefStore
from gitpet.git.repository import Repository
from gitpet.trust.trustlist import TrustList

__all__ = ["Vouching"]


class Vouching:
    """What this machine vouches for, and whose signature vouches for a version.

    Args:
        repository: where the histories are.
        refs: the class and pipeline refs.
        trusted: the versions this machine vouches for.
    """

    def __init__(self, repository: Repository, refs: RefStore, trusted: TrustList) -> None:
        self._repository = repository
        self._refs = refs
        self._trusted = trusted
        self._signers: dict[tuple[bytes, Path], str | None] = {}

    def vouches_for(self, version_id: str) -> bool:
        """Whether this machine vouches for ``version_id``."""
        return version_id in self._trusted

    def vouch(self, version_ids: Iterable[str]) -> None:
        """Vouch for ``version_ids`` (full ids)."""
        self._trusted.add(version_ids)

    def unvouch(self, version_ids: Iterable[str]) -> None:
        """Stop vouching for ``version_ids`` (the caller holds the writers lock)."""
        self._trusted.remove(version_ids)

    def vouch_for_histories(
        self, tips: Mapping[bytes, bytes], arrived: Callable[[bytes], bool] | None = None
    ) -> None:
        """Vouch for every version in the histories of ``tips`` (ref -> sha, from a trusted remote).

        A class's versions, and every version a pipeline's snapshots pin. With
        ``arrived`` (whether a commit came with the fetch that brought ``tips``),
        a class's history is followed down to the first commit that was here
        before and whose version this machine already vouches for: below it lies
        what earlier fetches and pushes brought, already decided on.
        """
        from gitpet.pipelines.catalog import pinned_ids

        objects = self._repository.objects()
        ids: set[str] = set()
        for ref, tip in tips.items():
            if is_pipeline_ref(ref):
                ids.update(pinned_ids(objects, tip))
                continue
            commit = peeled_commit(objects, tip)
            for fields in first_parent_chain(objects, commit) if commit is not None else ():
                version = fields.tree.decode("ascii")
                if arrived is not None and not arrived(fields.id) and self.vouches_for(version):
                    break
                ids.add(version)
        self._trusted.add(ids)

    def signed_by(self, name: str, version_id: bytes, allowed_signers: Path) -> str | None:
        """The principal whose valid signature vouches for ``version_id`` of class ``name``, if any.

        The signature is on a commit of that version in the class's history, or on
        a pipeline snapshot that pins it.
        """
        from gitpet.pipelines.catalog import pipeline_tips, snapshot_pins

        objects = self._repository.objects()
        tip = self._refs.read(class_ref(name))
        if tip is not None:
            for commit in first_parent_commits(objects, tip):
                if (
                    commit.tree == version_id
                    and (signer := self._signer(commit, allowed_signers)) is not None
                ):
                    return signer
        pin = (name, version_id.decode("ascii"))
        for _pipeline, pipeline_tip in pipeline_tips(self._refs):
            for commit, pins in snapshot_pins(objects, pipeline_tip):
                if pin in pins and (signer := self._signer(commit, allowed_signers)) is not None:
                    return signer
        return None

    def _signer(self, commit: Commit, signers: Path) -> str | None:
        key = (commit.id, signers)
        if key not in self._signers:
            from gitpet.git.signing import ssh_signer

            self._signers[key] = ssh_signer(commit, signers)
        return self._signers[key]
