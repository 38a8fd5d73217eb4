"""Signed statements: Ed25519 keys, signed envelopes, the trust store and
verification (one envelope, many at once, or a batch).

Secret key material never enters Python: a :class:`Key` is an opaque handle
to libsodium guarded memory. It is made from a fresh random seed
(:meth:`Key.generate`), derived from a 32-byte seed (:meth:`Key.from_seed`),
or opened from a passphrase-sealed key file (:meth:`Key.unseal`,
:meth:`Key.load`); only its public key comes out. Envelopes are ``bytes``
(docs/wire-format.md, "Signed envelopes"). Verification failures raise a
:class:`gpurent.AttestError` subclass (``BadSignatureError``,
``ExpiredError``, ``ReplayedError``, ...) or a :class:`gpurent.WireError`
for malformed bytes.
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

from . import capi
from ._handle import Handle
from .errors import ExistsError, class_for_status
from ._fields import call_with, document, set_fields
from .wire import _f, _Record

BytesLike = Union[bytes, bytearray, memoryview]

SEED_BYTES = capi.SEED_BYTES
NONCE_BYTES = capi.NONCE_BYTES
SUBJECT_MAX = capi.SUBJECT_MAX
ENVELOPE_MAX_SIGS = capi.ENVELOPE_MAX_SIGS


class Role(enum.IntFlag):
    """Roles a trusted key may hold (a bitmask)."""
    PROVIDER = capi.ROLE_PROVIDER
    AUDITOR = capi.ROLE_AUDITOR
    MATCHER = capi.ROLE_MATCHER
    REVOKER = capi.ROLE_REVOKER
    REQUESTER = capi.ROLE_REQUESTER
    ALL = capi.ROLE_ALL


class RevocationReason(enum.IntEnum):
    """Why a key was revoked (informational)."""
    UNSPECIFIED = capi.REVOKE_UNSPECIFIED
    COMPROMISED = capi.REVOKE_COMPROMISED
    SUPERSEDED = capi.REVOKE_SUPERSEDED
    RETIRED = capi.REVOKE_RETIRED


def statement_default_role(statement: int) -> Role:
    """The role an issuer needs by default for a statement type (0 if none)."""
    return Role(capi.statement_default_role(statement))


# ---- records ----

@document
@dataclass
class Envelope(_Record):
    """An envelope's header (gpurent_envelope): everything but the payload
    and the signatures. ``payload_len`` and ``signature_count`` are filled
    by :meth:`decode` and ignored when signing."""
    statement: int = _f(1)
    issuer: bytes = _f(2, bytes(32))
    issued_at: int = _f(3)
    expires_at: int = _f(4)
    nonce: bytes = _f(5, bytes(16))
    subject: bytes = _f(6, b"")
    payload_len: int = _f(7)
    signature_count: int = _f(8)

    def _to_c(self) -> Any:
        c = capi.envelope()
        capi.envelope_init(c)
        set_fields(c, self, ("statement", "issuer", "issued_at", "expires_at", "nonce"), "envelope")
        call_with("envelope", "subject", self.subject, capi.envelope_set_subject, c, self.subject)
        return c

    @classmethod
    def _from_c(cls, c: Any) -> "Envelope":
        return cls(statement=c.statement, issuer=c.issuer, issued_at=c.issued_at, expires_at=c.expires_at,
                   nonce=c.nonce, subject=bytes(c.subject[:c.subject_len]), payload_len=c.payload_len,
                   signature_count=c.signature_count)

    @classmethod
    def decode(cls, data: BytesLike) -> "Envelope":
        """The header of an envelope, WITHOUT checking any signature, time or
        trust (for routing and display only; the bytes must be canonical)."""
        c = capi.envelope()
        capi.envelope_decode(data, c)
        return cls._from_c(c)


@document
@dataclass
class Revocation(_Record):
    """A revocation record (gpurent_revocation): the payload of a signed
    revocation statement."""
    key: bytes = _f(1, bytes(32))
    revoked_at: int = _f(2)
    reason: int = _f(3)

    def _to_c(self) -> Any:
        return set_fields(capi.revocation(), self, ("key", "revoked_at", "reason"), "revocation")

    def validate(self) -> None:
        """Check the fields; raises InvalidFieldError naming the bad one."""
        capi.revocation_validate(self._to_c())

    def encode(self) -> bytes:
        """Validate, then return the canonical bytes."""
        return capi.revocation_encode(self._to_c())

    @classmethod
    def decode(cls, data: BytesLike) -> "Revocation":
        """Decode and validate untrusted bytes."""
        c = capi.revocation()
        capi.revocation_decode(data, c)
        return cls(key=c.key, revoked_at=c.revoked_at, reason=c.reason)


def envelope_digest(envelope: BytesLike) -> bytes:
    """The statement digest (BLAKE2b-256 of the signed message): names the
    statement whatever signatures are attached. Nothing is verified."""
    return capi.envelope_digest(envelope)


# ---- options ----

def _keyfile_options(opslimit: Optional[int], memlimit: Optional[int]) -> Any:
    o = capi.keyfile_options()
    capi.keyfile_options_init(o, capi.KEYFILE_OPTIONS_VERSION)
    if opslimit is not None:
        o.opslimit = opslimit
    if memlimit is not None:
        o.memlimit = memlimit
    return o


def _verify_options(statement: int, required_role: int, quorum: int, check_replay: bool) -> Any:
    o = capi.verify_options()
    capi.verify_options_init(o, capi.VERIFY_OPTIONS_VERSION)
    o.statement = int(statement)
    o.required_role = int(required_role)
    o.quorum = quorum
    o.check_replay = capi.VERIFY_REPLAY_CHECK if check_replay else capi.VERIFY_REPLAY_OFF
    return o


# ---- keys ----

def _status_error(st: int, detail: str) -> Exception:
    return class_for_status(st)(st, capi.status_name(st), capi.strerror(st), detail)


class Key(Handle):
    """An Ed25519 signing key held by the library (guarded memory, wiped on
    close). No method returns secret bytes; :attr:`public_key` is public."""

    _free = staticmethod(capi.key_free)

    @classmethod
    def generate(cls) -> "Key":
        """A fresh random key."""
        return cls(capi.key_generate())

    @classmethod
    def from_seed(cls, seed: BytesLike) -> "Key":
        """The key derived from a 32-byte seed (the same seed, the same key).
        Wipe your copy of the seed afterwards (use a bytearray)."""
        return cls(capi.key_from_seed(seed))

    @classmethod
    def unseal(cls, data: BytesLike, passphrase: str, expected_public_key: Optional[bytes] = None) -> "Key":
        """Open sealed key-file bytes. Raises KeyfileDamagedError,
        WrongPassphraseError or KeyMismatchError. Releases the GIL."""
        return cls(capi.key_unseal(data, passphrase, expected_public_key))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], passphrase: str,
             expected_public_key: Optional[bytes] = None) -> "Key":
        """:meth:`unseal` the key file at ``path``; IOFailedError on file errors."""
        return cls(capi.key_load(os.fspath(path), passphrase, expected_public_key))

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return capi.key_public(self.ptr)

    def seal(self, passphrase: str, opslimit: Optional[int] = None, memlimit: Optional[int] = None) -> bytes:
        """The key-file bytes: the seed sealed with ``passphrase`` (Argon2id
        with ``opslimit`` passes over ``memlimit`` bytes, then
        XSalsa20-Poly1305). Releases the GIL."""
        return capi.key_seal(self.ptr, passphrase, _keyfile_options(opslimit, memlimit))

    def save(self, path: Union[str, "os.PathLike[str]"], passphrase: str, opslimit: Optional[int] = None,
             memlimit: Optional[int] = None, force: bool = False) -> None:
        """:meth:`seal` written to ``path`` (mode 0600, atomically, through a
        fresh temporary file; a symlink is never written through). An
        existing ``path`` raises :class:`ExistsError` unless ``force``, which
        replaces it."""
        p, opts = os.fspath(path), _keyfile_options(opslimit, memlimit)
        if force:
            capi.key_save(self.ptr, p, passphrase, opts)
            return
        try:
            capi.key_save_new(self.ptr, p, passphrase, opts)
        except ExistsError:
            raise _status_error(capi.E_EXISTS, f"{p}: already exists; pass force=True to replace it") from None

    def sign(self, payload: BytesLike, issued_at: int, expires_at: int, statement: Optional[int] = None,
             nonce: Optional[bytes] = None, subject: bytes = b"") -> bytes:
        """Sign a canonical record into a new envelope.

        ``statement`` defaults to the payload's record type; ``nonce`` (16
        bytes) to a random one. The issuer is this key."""
        if statement is None:
            statement = capi.wire_record_type(payload)
        hdr = Envelope(statement=statement, issued_at=issued_at, expires_at=expires_at,
                       nonce=bytes(16) if nonce is None else nonce, subject=subject)
        return capi.envelope_sign(self.ptr, hdr._to_c(), payload)

    def cosign(self, envelope: BytesLike) -> bytes:
        """The envelope with this key's signature added (quorum statements).
        Existing signatures are not checked. ExistsError if already signed."""
        return capi.envelope_cosign(self.ptr, envelope)


# ---- verification results ----

class Verified(Handle):
    """What a successful verification hands back: the payload, the header,
    the statement digest and the signers that counted."""

    _free = staticmethod(capi.verified_free)

    @property
    def payload(self) -> bytes:
        """The verified payload (a canonical record)."""
        return capi.verified_payload(self.ptr)

    @property
    def payload_view(self) -> bytes:
        """The payload again, through the borrowing accessor (a copy too)."""
        return capi.verified_payload_data(self.ptr)

    @property
    def header(self) -> Envelope:
        """The verified header."""
        c = capi.envelope()
        capi.verified_header(self.ptr, c)
        return Envelope._from_c(c)

    @property
    def digest(self) -> bytes:
        """The statement digest (as :func:`envelope_digest`)."""
        return capi.verified_digest(self.ptr)

    @property
    def signers(self) -> List[bytes]:
        """Public keys of the signers that counted, ascending."""
        p = self.ptr
        return [capi.verified_signer(p, i) for i in range(capi.verified_signer_count(p))]


def _trust_expect(replay_capacity: Optional[int]) -> Any:
    if replay_capacity is None:
        return None
    o = capi.trust_options()
    capi.trust_options_init(o, capi.TRUST_OPTIONS_VERSION)
    o.replay_capacity = replay_capacity
    return o


class TrustStore(Handle):
    """Which public keys are trusted for which roles and when, which are
    revoked, and the replay cache. Safe to share between threads."""

    _free = staticmethod(capi.trust_free)

    def __init__(self, replay_capacity: Optional[int] = None) -> None:
        o = capi.trust_options()
        capi.trust_options_init(o, capi.TRUST_OPTIONS_VERSION)
        if replay_capacity is not None:
            o.replay_capacity = replay_capacity
        super().__init__(capi.trust_new(o))

    # ---- snapshots (docs/snapshots.md) ----

    def save(self, input_seq: int = 0) -> bytes:
        """Keys, revocations and the replay window as a snapshot, recording
        ``input_seq`` (the last input of your ordered log it reflects). A
        store loaded from it refuses as replays what this one would."""
        return capi.trust_save(self.ptr, input_seq)

    def save_file(self, path: Union[str, "os.PathLike[str]"], input_seq: int = 0) -> None:
        """:meth:`save` into ``path`` crash-safely (mode 0600: the replay
        cache's id key is in it)."""
        capi.trust_save_file(self.ptr, input_seq, os.fspath(path))

    @classmethod
    def load(cls, data: bytes, replay_capacity: Optional[int] = None) -> "Tuple[TrustStore, int]":
        """A store from :meth:`save` bytes and its input sequence; with
        ``replay_capacity`` the snapshot must have been taken with it
        (SnapshotParamsError otherwise). Nothing is loaded on failure."""
        ptr, seq = capi.trust_load(data, _trust_expect(replay_capacity))
        return cls._adopt(ptr), seq

    @classmethod
    def load_file(cls, path: Union[str, "os.PathLike[str]"],
                  replay_capacity: Optional[int] = None) -> "Tuple[TrustStore, int]":
        """:meth:`load` from the file at ``path``."""
        ptr, seq = capi.trust_load_file(os.fspath(path), _trust_expect(replay_capacity))
        return cls._adopt(ptr), seq

    @classmethod
    def _adopt(cls, ptr: Any) -> "TrustStore":
        store = cls.__new__(cls)
        Handle.__init__(store, ptr)
        return store

    def add(self, public_key: bytes, roles: int, not_before: int = 0, not_after: int = 0) -> None:
        """Trust ``public_key`` for ``roles`` (Role bits) from ``not_before``
        to ``not_after`` (Unix seconds, inclusive; 0 = no end)."""
        capi.trust_add(self.ptr, public_key, int(roles), not_before, not_after)

    def remove(self, public_key: bytes) -> None:
        """Stop trusting a key (NotFoundError if it was not there). A revoked
        key that leaves stays revoked if it comes back; past
        GPURENT_TRUST_MAX_KEYS such revocations of keys not in the store,
        LimitError, and the revoked key stays in the store."""
        capi.trust_remove(self.ptr, public_key)

    def roles(self, public_key: bytes) -> Role:
        """The roles a key holds; NotFoundError if it is not trusted."""
        return Role(capi.trust_roles(self.ptr, public_key))

    def revoke(self, public_key: bytes) -> None:
        """Revoke a key for the life of the store (idempotent); revokers'
        revocations of it that waited for the key to join are dropped (their
        revokers get their share back)."""
        capi.trust_revoke(self.ptr, public_key)

    def is_revoked(self, public_key: bytes) -> bool:
        """Whether a key is revoked."""
        return bool(capi.trust_is_revoked(self.ptr, public_key))

    def __len__(self) -> int:
        return capi.trust_key_count(self.ptr)

    def clear_replay(self) -> None:
        """Forget every statement in the replay cache."""
        capi.trust_replay_clear(self.ptr)

    def adopt_replay(self, other: "TrustStore") -> None:
        """Replace this store's replay cache with a copy of ``other``'s (its
        capacity, remembered statements and eviction order); keys and
        revocations stay. E.g. the replay window of a store from
        :meth:`load_file` carried into one built from another key list."""
        if not isinstance(other, TrustStore):
            raise TypeError("adopt_replay: other must be a TrustStore")
        capi.trust_adopt_replay(self.ptr, other.ptr)

    def verify(self, envelope: BytesLike, now: int, skew_s: int = 0, statement: int = 0, required_role: int = 0,
               quorum: int = 1, check_replay: bool = True) -> Verified:
        """Verify an envelope at Unix time ``now``; returns a :class:`Verified`
        (close it, or use ``with``). Raises the first check that fails."""
        opts = _verify_options(statement, required_role, quorum, check_replay)
        return Verified(capi.envelope_verify(self.ptr, envelope, now, skew_s, opts))

    def apply_revocation(self, envelope: BytesLike, now: int, skew_s: int = 0, quorum: int = 1,
                         check_replay: bool = True) -> None:
        """Verify a signed revocation statement and revoke its key."""
        capi.trust_apply_revocation(self.ptr, envelope, now, skew_s,
                                    _verify_options(0, 0, quorum, check_replay))

    def verify_many(self, envelopes: Sequence[BytesLike], now: int, skew_s: int = 0, statement: int = 0,
                    required_role: int = 0, quorum: int = 1, check_replay: bool = True, threads: int = 0,
                    cancel: Optional[Any] = None) -> List[int]:
        """Verify many envelopes on ``threads`` threads (0 = one per CPU)
        with the GIL released. Returns one status per envelope (0 = valid;
        see :func:`gpurent.class_for_status`), exactly as one-by-one
        verification in input order would. Raises CancelledError."""
        opts = _verify_options(statement, required_role, quorum, check_replay)
        return capi.envelope_verify_many(self.ptr, envelopes, now, skew_s, opts, threads,
                                         None if cancel is None else cancel.ptr)


class VerifyBatch(Handle):
    """A batch of envelopes for bulk verification: add, run, read answers."""

    _free = staticmethod(capi.verify_batch_free)

    def __init__(self, envelopes: Sequence[BytesLike] = ()) -> None:
        super().__init__(capi.verify_batch_new())
        for e in envelopes:
            self.add(e)

    def add(self, envelope: BytesLike) -> None:
        """Append a copy of an envelope."""
        capi.verify_batch_add(self.ptr, envelope)

    def __len__(self) -> int:
        return capi.verify_batch_count(self.ptr)

    def run(self, trust: TrustStore, now: int, skew_s: int = 0, statement: int = 0, required_role: int = 0,
            quorum: int = 1, check_replay: bool = True, threads: int = 0, cancel: Optional[Any] = None) -> None:
        """Verify every envelope added (GIL released)."""
        opts = _verify_options(statement, required_role, quorum, check_replay)
        capi.verify_batch_run(self.ptr, trust.ptr, now, skew_s, opts, threads, None if cancel is None else cancel.ptr)

    def status(self, index: int) -> int:
        """The answer for envelope ``index`` (0 = valid, else a status)."""
        return capi.verify_batch_status(self.ptr, index)

    def statuses(self) -> List[int]:
        """Every answer, in input order."""
        return [self.status(i) for i in range(len(self))]

    def error(self, index: int) -> Optional[Exception]:
        """The exception envelope ``index`` would have raised, or None."""
        st = self.status(index)
        if st == 0:
            return None
        cls = class_for_status(st)
        return cls(st, capi.status_name(st), capi.strerror(st), "")

    def payload(self, index: int) -> bytes:
        """The verified payload of envelope ``index``; raises its status if
        it did not verify."""
        return capi.verify_batch_payload(self.ptr, index)


__all__ = ["Role", "RevocationReason", "Envelope", "Revocation", "Key", "Verified", "TrustStore",
           "VerifyBatch", "statement_default_role", "envelope_digest"]
