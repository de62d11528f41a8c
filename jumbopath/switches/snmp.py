"""Read switches over SNMP (v2c, or v3 with authentication and privacy): the only
module that imports pysnmp.

Every switch is read at the same time (asyncio); on each, the scalars come
in one GET and each table group of :data:`jumbopath.switches.mib.TABLES`
is walked with GETBULK, all its columns side by side, the groups in
parallel. Responses are kept small (:data:`VARBINDS_PER_RESPONSE`): the
management traffic may itself cross the 1500-byte port being looked for.

Everything the agent says is reduced to plain values here and decoded by
:mod:`jumbopath.switches.mib`; failures become a :class:`SwitchInfo` with
a :class:`PollFailure`, never an exception, so one dead switch does not
hide the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jumbopath.safe import safe_text
from jumbopath.switches import mib
from jumbopath.switches.credentials import Credentials
from jumbopath.switches.model import PollFailure, Source, SwitchInfo

VARBINDS_PER_RESPONSE = 24
"""GETBULK max-repetitions x columns: about 1 KB per response, under any MTU."""
MAX_ROUNDS = 200
"""Bound on GETBULK requests per table group."""
DEFAULT_PORT = 161


@dataclass(frozen=True, slots=True)
class Target:
    """One switch to read."""

    name: str
    """Name shown (a sysName replaces an address-only name)."""
    address: str
    """Management address (IPv4 or IPv6)."""
    credentials: Credentials
    """How to authenticate."""
    port: int = DEFAULT_PORT
    """UDP port."""
    vendor: str | None = None
    """ifMtu rule to apply; None: recognise it from sysDescr/sysObjectID."""


class _Failed(Exception):
    def __init__(self, failure: PollFailure, message: str) -> None:
        super().__init__(message)
        self.failure = failure


# errorIndication names (pysnmp) that mean "the credentials were refused".
_AUTH_ERRORS = (
    "unknownusername",
    "digest",
    "unknownsecurityname",
    "decryptionerror",
    "unsupportedsecuritylevel",
    "authorizationerror",
    "notintimewindow",
)


def poll(
    targets: Sequence[Target], *, timeout_s: float = 1.0, retries: int = 1, max_time_s: float = 10.0
) -> list[SwitchInfo]:
    """Read every target at once; one :class:`SwitchInfo` per target, in order."""
    return asyncio.run(
        poll_async(targets, timeout_s=timeout_s, retries=retries, max_time_s=max_time_s)
    )


async def poll_async(
    targets: Sequence[Target], *, timeout_s: float = 1.0, retries: int = 1, max_time_s: float = 10.0
) -> list[SwitchInfo]:
    """:func:`poll` for callers that run an event loop."""
    from pysnmp.hlapi.v3arch.asyncio import SnmpEngine

    # One engine per set of credentials: an engine keeps one key per v3 user
    # name, and two switches may know the same user with different keys.
    # Building an engine costs about 0.4 s (it loads its MIB modules).
    keyed: dict[tuple[str | None, ...], Any] = {}
    for t in targets:
        if _key(t.credentials) not in keyed:
            keyed[_key(t.credentials)] = SnmpEngine()
    try:
        jobs = [
            _read(keyed[_key(t.credentials)], t, timeout_s, retries, max_time_s) for t in targets
        ]
        return list(await asyncio.gather(*jobs))
    finally:
        for engine in keyed.values():
            engine.close_dispatcher()


def _key(c: Credentials) -> tuple[str | None, ...]:
    return (
        c.version,
        c.community,
        c.user,
        c.auth_protocol,
        c.auth_key,
        c.priv_protocol,
        c.priv_key,
    )


async def _read(
    engine: Any, target: Target, timeout_s: float, retries: int, max_time_s: float
) -> SwitchInfo:
    started = time.monotonic()
    try:
        session = await _Session.open(engine, target, timeout_s, retries)
        scalars, walk = await asyncio.wait_for(session.read_all(), max_time_s)
    except _Failed as exc:
        return _failed(target, exc.failure, str(exc), started)
    except asyncio.TimeoutError:
        return _failed(
            target, PollFailure.TIMEOUT, f"reading took longer than {max_time_s:g} s", started
        )
    except OSError as exc:
        return _failed(target, PollFailure.ERROR, f"cannot reach {target.address}: {exc}", started)
    info = mib.decode(
        target.name,
        target.address,
        scalars,
        walk,
        vendor=target.vendor,
        elapsed_s=round(time.monotonic() - started, 4),
    )
    if not info.ports:
        return _failed(
            target,
            PollFailure.NO_DATA,
            "the agent answered but lists no interfaces (IF-MIB)",
            started,
        )
    return info


def _failed(target: Target, failure: PollFailure, message: str, started: float) -> SwitchInfo:
    return SwitchInfo(
        name=target.name,
        address=target.address,
        source=Source.SNMP,
        vendor=target.vendor or "unknown",
        vendor_guessed=target.vendor is None,
        failure=failure,
        error=safe_text(message),
        elapsed_s=round(time.monotonic() - started, 4),
    )


def _auth_data(credentials: Credentials) -> Any:
    from pysnmp.hlapi.v3arch import asyncio as hl

    if credentials.version == "2c":
        return hl.CommunityData(credentials.community, mpModel=1)
    auth = {
        "md5": hl.usmHMACMD5AuthProtocol,
        "sha": hl.usmHMACSHAAuthProtocol,
        "sha224": hl.usmHMAC128SHA224AuthProtocol,
        "sha256": hl.usmHMAC192SHA256AuthProtocol,
        "sha384": hl.usmHMAC256SHA384AuthProtocol,
        "sha512": hl.usmHMAC384SHA512AuthProtocol,
    }[credentials.auth_protocol]
    priv = {
        "aes": hl.usmAesCfb128Protocol,
        "aes192": hl.usmAesCfb192Protocol,
        "aes256": hl.usmAesCfb256Protocol,
        "des": hl.usmDESPrivProtocol,
        "3des": hl.usm3DESEDEPrivProtocol,
    }[credentials.priv_protocol]
    return hl.UsmUserData(
        credentials.user,
        authKey=credentials.auth_key,
        privKey=credentials.priv_key,
        authProtocol=auth,
        privProtocol=priv,
    )


def _plain(value: Any) -> mib.Value | None:
    """A pysnmp value as int, bytes or dotted OID text; None for an exception value."""
    kind = type(value).__name__
    if kind in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return None
    if kind == "ObjectIdentifier":
        return str(value)
    if hasattr(value, "asOctets"):
        octets: bytes = value.asOctets()
        return octets
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Session:
    """One agent: authentication, transport and the requests."""

    def __init__(self, engine: Any, auth: Any, transport: Any) -> None:
        from pysnmp.hlapi.v3arch.asyncio import ContextData

        self.engine, self.auth, self.transport = engine, auth, transport
        self.context = ContextData()

    @classmethod
    async def open(cls, engine: Any, target: Target, timeout_s: float, retries: int) -> _Session:
        from pysnmp.hlapi.v3arch.asyncio import Udp6TransportTarget, UdpTransportTarget

        kind = Udp6TransportTarget if ":" in target.address else UdpTransportTarget
        try:
            transport = await kind.create(
                (target.address, target.port), timeout=timeout_s, retries=retries
            )
        except Exception as exc:  # pysnmp wraps resolver and socket errors in its own types
            raise _Failed(PollFailure.ERROR, f"bad address {target.address!r}: {exc}") from exc
        return cls(engine, _auth_data(target.credentials), transport)

    def _check(self, indication: Any, status: Any, index: Any) -> None:
        if indication:
            words = str(indication)
            squashed = words.replace(" ", "").lower()
            if any(name in squashed for name in _AUTH_ERRORS):
                raise _Failed(PollFailure.AUTH, f"the agent refused the credentials ({words})")
            if "timeout" in squashed or "noresponse" in squashed:
                raise _Failed(PollFailure.TIMEOUT, "no answer")
            raise _Failed(PollFailure.ERROR, words)
        if status:
            raise _Failed(PollFailure.ERROR, f"SNMP error {status.prettyPrint()} at {index}")

    async def read_all(self) -> tuple[dict[str, mib.Value], dict[str, mib.Column]]:
        # The scalars first: a dead agent or refused credentials show up once.
        scalars = await self.get(mib.SCALARS)
        groups = await asyncio.gather(*(self.walk(cols) for cols in mib.TABLES.values()))
        walk: dict[str, mib.Column] = {}
        for group in groups:
            walk.update(group)
        return scalars, walk

    async def get(self, objects: dict[str, str]) -> dict[str, mib.Value]:
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, get_cmd

        names = list(objects)
        indication, status, index, binds = await get_cmd(
            self.engine,
            self.auth,
            self.transport,
            self.context,
            *(ObjectType(ObjectIdentity(objects[n])) for n in names),
            lookupMib=False,
        )
        self._check(indication, status, index)
        out = {}
        for name, (_, value) in zip(names, binds, strict=False):
            plain = _plain(value)
            if plain is not None:
                out[name] = plain
        return out

    async def walk(self, columns: dict[str, str]) -> dict[str, mib.Column]:
        """Every row of ``columns``, walked side by side with GETBULK."""
        from pysnmp.hlapi.v3arch.asyncio import ObjectIdentity, ObjectType, bulk_cmd

        found: dict[str, mib.Column] = {name: {} for name in columns}
        at = dict(columns)  # column -> last OID seen; dropped when the column ends
        for _ in range(MAX_ROUNDS):
            if not at:
                break
            names = list(at)
            reps = max(1, VARBINDS_PER_RESPONSE // len(names))
            indication, status, index, binds = await bulk_cmd(
                self.engine,
                self.auth,
                self.transport,
                self.context,
                0,
                reps,
                *(ObjectType(ObjectIdentity(at[n])) for n in names),
                lookupMib=False,
            )
            self._check(indication, status, index)
            rows = [binds[i : i + len(names)] for i in range(0, len(binds), len(names))]
            progress = False
            for row in rows:
                for name, (oid, value) in zip(names, row, strict=False):
                    if name not in at:
                        continue
                    text, prefix = str(oid), columns[name] + "."
                    plain = _plain(value)
                    if not text.startswith(prefix) or type(value).__name__ == "EndOfMibView":
                        del at[name]
                        continue
                    suffix = text[len(prefix) :]
                    try:
                        key = tuple(int(x) for x in suffix.split("."))
                    except ValueError:
                        del at[name]
                        continue
                    if plain is not None and len(found[name]) < mib.MAX_ROWS:
                        found[name][key] = plain
                    if text != at[name]:
                        progress = True
                    at[name] = text
            if not progress:
                break
        return found
