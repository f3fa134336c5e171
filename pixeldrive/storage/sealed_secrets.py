"""Each API key's URL-signing secret, encrypted at rest with a key kept apart from the
database: a copy of the database (a backup, a dump, a stolen file) signs no URL.

AES-256-GCM from `cryptography` (its `AESGCM`): a well-kept library, not a cipher of our
own. Each secret is sealed with a random 96-bit nonce, and bound to its key id as
associated data, so a sealed value copied onto another key's row does not open. A row
sealed with the same key (`sealing_key_check`) tells the right key from a wrong one when
the database is opened, before any secret is needed.

Where the key comes from (`KeySource`): `secrets.key` (the environment) or
`secrets.key_file`; else, in embedded mode, `$STATE_DIR/secrets/signing-secrets.key`,
made (0600) when the database has no sealed secret yet. Cluster mode must be given one:
every node and the CLI share the database, so they need the same key, and a file in one
node's state directory is not that. A key that is missing or wrong is a SecretsKeyError
naming where it was looked for, never new secrets in its place.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pixeldrive.core.config import SEALING_KEY_BYTES, Settings, parse_sealing_key
from pixeldrive.core.errors import SecretsKeyError
from pixeldrive.storage.private_files import FILE_MODE, SECRETS_DIR, tighten, write_private
from pixeldrive.storage.sql import Connection, transaction

PREFIX = "sealed:v1:"  # a plain secret (43 URL-safe base64 characters) never starts so
NONCE_BYTES = 12
CHECK_TEXT = "pixeldrive signing secrets"
CHECK_BOUND = "sealing-key-check"
DEFAULT_KEY_FILE = f"{SECRETS_DIR}/signing-secrets.key"
log = logging.getLogger("pixeldrive.secrets")


class SecretBox:
    """Seals and opens signing secrets with one key. Holds the key: never printed."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key = key

    def derive(self, purpose: str) -> bytes:
        """32 bytes for `purpose`, the same wherever this key is (HKDF-SHA256): what every
        node of a cluster must share, derived from the one key they already share."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
        return hkdf.derive(self._key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, plain: str, *, bound_to: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plain.encode(), bound_to.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, *, bound_to: str) -> str:
        """The plain secret. A value without the prefix is a secret an older version
        wrote in plain text (sealed at the next start): given back as it is.
        SecretsKeyError when the value does not open with this key."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            raw = base64.urlsafe_b64decode(stored.removeprefix(PREFIX))
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise SecretsKeyError(
                f"the signing secret of {bound_to!r} does not open with this key"
            ) from None
        return plain.decode()


@dataclass(frozen=True, slots=True)
class KeySource:
    """Where the sealing key is: `given` (the setting), or `file`. `default` says the file
    is the state directory's own, which is made when nothing is sealed yet. `name` is how
    messages name the place, and the setting that changes it."""

    name: str
    given: bytes | None = field(default=None, repr=False)
    file: Path | None = None
    default: bool = False

    def read(self, *, create: bool) -> bytes:
        """The key; made first when `create` and this is the default file and it is
        missing. SecretsKeyError naming the place when it is missing or malformed."""
        if self.given is not None:
            return self.given
        assert self.file is not None
        if create and self.default:
            # Made by another process just now, or long ago: then read that one.
            with contextlib.suppress(FileExistsError):
                write_private(self.file, _new_key_text(), replace=False)
        try:
            text = self.file.read_text(encoding="ascii")
        except FileNotFoundError:
            raise SecretsKeyError(
                f"the signing secrets are encrypted with the key in {self.name}, which is "
                "missing: restore it from a backup (or point secrets.key_file, "
                "PIXELDRIVE_SECRETS__KEY_FILE, at it); without it no key's signing secret "
                "can be read, and none is made anew"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SecretsKeyError(f"cannot read the key in {self.name}: {exc}") from None
        self._check_mode()
        try:
            return parse_sealing_key(text)
        except ValueError as exc:
            raise SecretsKeyError(f"the key in {self.name} {exc}") from None

    def _check_mode(self) -> None:
        assert self.file is not None
        if self.default:
            tighten(self.file, FILE_MODE)
        elif stat.S_IMODE(self.file.stat().st_mode) & 0o077:
            log.warning("%s can be read by other users: make it 0600", self.file)


def _new_key_text() -> bytes:
    return base64.urlsafe_b64encode(os.urandom(SEALING_KEY_BYTES)).rstrip(b"=") + b"\n"


def key_source(settings: Settings) -> KeySource:
    """Where these settings keep the sealing key; SecretsKeyError in cluster mode when
    none is given."""
    given = settings.secrets
    if given.key is not None:
        key = parse_sealing_key(given.key.get_secret_value())  # checked with the settings
        return KeySource("secrets.key (PIXELDRIVE_SECRETS__KEY)", given=key)
    if given.key_file is not None:
        return KeySource(f"{given.key_file} (secrets.key_file)", file=given.key_file)
    if settings.database_url:
        raise SecretsKeyError(
            "cluster mode (database_url) needs the key that encrypts signing secrets, the "
            "same on every node and for `pixeldrive keys`: set PIXELDRIVE_SECRETS__KEY, or "
            "PIXELDRIVE_SECRETS__KEY_FILE to a file holding it (32 random bytes in "
            "base64: openssl rand -base64 32)"
        )
    path = settings.state_dir / DEFAULT_KEY_FILE
    return KeySource(str(path), file=path, default=True)


def open_box(db: Connection, source: KeySource) -> SecretBox:
    """The box for this database's signing secrets, its key checked against the
    database's check row (written on first use). Secrets an older version left in plain
    text are sealed now, in one transaction. SecretsKeyError for a missing or wrong key."""
    checked = db.execute("SELECT sealed FROM sealing_key_check WHERE id = 1").fetchone()
    if checked is not None and not _plain_rows(db):
        return _checked(SecretBox(source.read(create=False)), checked[0], source)
    with transaction(db, lock="pixeldrive-sealing-key"):
        checked = db.execute("SELECT sealed FROM sealing_key_check WHERE id = 1").fetchone()
        box = SecretBox(source.read(create=checked is None))
        if checked is None:
            db.execute(
                "INSERT INTO sealing_key_check (id, sealed, created) VALUES (1, ?, ?)",
                (box.seal(CHECK_TEXT, bound_to=CHECK_BOUND), time.time()),
            )
        else:
            _checked(box, checked[0], source)
        plain = _plain_rows(db)
        db.executemany(
            "UPDATE api_keys SET signing_secret = ? WHERE id = ?",
            [(box.seal(secret, bound_to=key_id), key_id) for key_id, secret in plain],
        )
    if plain:
        log.warning("encrypted the signing secrets of %d keys stored in plain text", len(plain))
    return box


def _plain_rows(db: Connection) -> list[tuple[str, str]]:
    rows = db.execute(
        "SELECT id, signing_secret FROM api_keys WHERE signing_secret NOT LIKE ?",
        (PREFIX + "%",),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _checked(box: SecretBox, sealed: str, source: KeySource) -> SecretBox:
    try:
        if sealed.startswith(PREFIX) and box.open(sealed, bound_to=CHECK_BOUND) == CHECK_TEXT:
            return box
    except SecretsKeyError:
        pass
    raise SecretsKeyError(
        f"the key in {source.name} is not the one this database's signing secrets are "
        "encrypted with: use that key; a new one cannot read them"
    )
