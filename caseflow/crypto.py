"""Encryption at rest of the identity and free text (AES-256-GCM), and blind indexes for equality.

The keys never live in the database: they come from `CASEFLOW_DATA_KEY` or a key file
(`CASEFLOW_DATA_KEY_FILE`, default `instance/data_key`, generated on first start like the
secret key). Each ciphertext names the key that made it, so `flask caseflow rotate-key` can
add a new key, re-encrypt every row under it and still read rows it has not reached yet.

Format of a stored value: ``cf1$<key id>$<base64url(nonce | ciphertext | tag)>``; the
column's purpose (e.g. ``children.full_name``) is the associated data, so a ciphertext
copied into another column does not decrypt there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app, has_app_context

PREFIX = "cf1$"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext names a key this installation does not have, or it was altered."""


def _b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


@dataclass
class Keyring:
    """The data keys by id; the first is current (new values are encrypted under it)."""

    keys: dict[str, bytes]
    current: str
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    _index_key: bytes = b""

    def __post_init__(self) -> None:
        self._aead = {kid: AESGCM(key) for kid, key in self.keys.items()}
        # Blind indexes use a key derived from the current one: rotation recomputes them.
        self._index_key = _derive(self.keys[self.current], b"caseflow blind index v1")

    def encrypt(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode("utf-8"), purpose.encode())
        return f"{PREFIX}{self.current}${_b64e(nonce + sealed)}"

    def decrypt(self, stored: str, purpose: str) -> str:
        if not is_encrypted(stored):
            # Rows written before encryption (converted by migration 0007 and `rotate-key`).
            return stored
        _, kid, body = stored.split("$", 2)
        aead = self._aead.get(kid)
        if aead is None:
            raise DecryptionError(f"data key {kid!r} is not configured")
        raw = _b64d(body)
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError(
                f"a value of {purpose} does not decrypt: altered, or another column's"
            ) from exc

    def key_id_of(self, stored: str) -> str | None:
        return stored.split("$", 2)[1] if is_encrypted(stored) else None

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def is_encrypted(stored: object) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX)


def new_key_line() -> str:
    """A fresh key as a key-file line: `<id> <base64 key>`."""
    return f"{secrets.token_hex(4)} {_b64e(AESGCM.generate_key(bit_length=256))}"


def parse_keys(text: str) -> Keyring:
    """Key-file text or the `CASEFLOW_DATA_KEY` value: entries `id key` or `id:key` separated by
    lines or commas, the current first; a bare key gets an id made from its hash."""
    keys: dict[str, bytes] = {}
    for entry in text.replace(",", "\n").splitlines():
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        kid, sep, encoded = entry.replace(":", " ", 1).partition(" ")
        if not sep:
            encoded, kid = kid, hashlib.sha256(kid.encode()).hexdigest()[:8]
        key = _b64d(encoded.strip())
        if len(key) != 32:
            raise ValueError(f"data key {kid!r} must be 32 bytes (base64), got {len(key)}")
        keys.setdefault(kid, key)
    if not keys:
        raise ValueError("no data key given")
    return Keyring(keys, next(iter(keys)))


def key_file(app: Flask) -> Path:
    return Path(app.config.get("CASEFLOW_DATA_KEY_FILE") or Path(app.instance_path) / "data_key")


def _generate_key_file(path: Path) -> None:
    """Of several processes starting at once, exactly one key wins and none reads a half-written
    file: the key is written to a private temporary file first, then hard-linked into place, which
    fails for every process but the first."""
    if path.exists():
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".data_key.")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key_line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def load_keyring(app: Flask) -> Keyring:
    configured = app.config.get("CASEFLOW_DATA_KEY")
    if configured:
        return parse_keys(configured)
    path = key_file(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    _generate_key_file(path)
    return parse_keys(path.read_text())


_last: Keyring | None = None  # for code that runs without an app context (none in the app itself)


def init_app(app: Flask) -> None:
    global _last
    app.extensions["caseflow_keyring"] = _last = load_keyring(app)


def keyring() -> Keyring:
    if has_app_context():
        ring = current_app.extensions.get("caseflow_keyring")
        if ring is not None:
            return ring
    if _last is None:
        raise RuntimeError("no data keys loaded: create the app first")
    return _last


def normalize_name(name: str) -> str:
    """A name as the duplicate check compares it: no accents (đ as d), case or extra spaces, since
    the same child is typed as "Nguyễn Văn An" by one office and "nguyen van an" by another."""
    decomposed = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def blind_index(value: str) -> str:
    """HMAC-SHA256 of `value` under the installation's index key: equal inputs, equal outputs,
    and nothing a reader of the database can reverse without the key."""
    return keyring().blind_index(value)


def child_name_index(full_name: str | None, date_of_birth: object) -> str | None:
    """The blind index of a child's normalized name and birth date (children.name_index)."""
    if not full_name:
        return None
    born = date_of_birth.isoformat() if hasattr(date_of_birth, "isoformat") else ""
    return blind_index(f"{normalize_name(full_name)}|{born}")
