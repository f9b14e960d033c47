"""Keys derived from the one secret: ID-number hashing, field encryption, certificate signing.

Deriving every key from DANDELION_SECRET_KEY with HKDF means several app instances and
workers agree on all keys without sharing any file but their configuration.

Certificate signing keys come in generations (DANDELION_SIGNING_KEY_GENERATION): raising it
rotates the key new certificates are signed with. Every earlier generation is still derived, so
certificates signed before a rotation keep verifying; each key is known by its key id.

Data at rest (ID numbers, mobiles, uploaded originals, kept exports) is sealed under one of
two algorithm families, chosen by DANDELION_CRYPTO: "standard" (Fernet: AES-128-CBC with
HMAC-SHA256; lookup hashes HMAC-SHA256) or "national", China's commercial cryptography
(商用密码) for a 密评 assessment: SM4-GCM with a random 96-bit nonce, lookup hashes HMAC-SM3,
their keys derived with HKDF-SM3. A national ciphertext starts with "sm4:", which no Fernet
token can (they are base64 starting "gAAAAA"), so decrypt reads either and a half-done
`dandelion crypto migrate` loses nothing. Certificates stay signed with Ed25519 (SM2 is not in
cryptography: docs/crypto.md).
"""

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

STANDARD, NATIONAL = "standard", "national"
ALGORITHMS = (STANDARD, NATIONAL)
SM4_PREFIX = "sm4:"  # text; bytes (files) start with its ASCII, then the raw nonce and sealed
_SM4_BYTES = SM4_PREFIX.encode()
_SM4_AAD = b"dandelion/sm4-gcm/v1"  # binds a ciphertext to this use: never a bare SM4 blob
_NONCE, _TAG = 12, 16


def _derive(
    secret: str, purpose: str, *, algorithm: hashes.HashAlgorithm | None = None, length: int = 32
) -> bytes:
    return HKDF(
        algorithm=algorithm or hashes.SHA256(), length=length, salt=None, info=purpose.encode()
    ).derive(secret.encode())


def sm4_key(secret: str) -> bytes:
    """The SM4 key of the national seal: for an assessor (密评) or a test that opens a stored
    ciphertext with a tool of their own (SM4-GCM, nonce first, then data, tag last, AAD
    "dandelion/sm4-gcm/v1")."""
    return _derive(secret, "dandelion/sm4-gcm/v1", algorithm=hashes.SM3(), length=16)


class _Sm4Gcm:
    def __init__(self, key: bytes):
        self._key = key

    def seal(self, data: bytes) -> bytes:
        nonce = os.urandom(_NONCE)  # random 96 bits: 2**32 seals a key stay far from a repeat
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(_SM4_AAD)
        return nonce + encryptor.update(data) + encryptor.finalize() + encryptor.tag

    def open(self, sealed: bytes) -> bytes:
        if len(sealed) < _NONCE + _TAG:
            raise _undecryptable()
        nonce, body, tag = sealed[:_NONCE], sealed[_NONCE:-_TAG], sealed[-_TAG:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(_SM4_AAD)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag as exc:
            raise _undecryptable() from exc


def _undecryptable() -> RuntimeError:
    # Wrong key or a damaged value: a configuration error, not user input.
    return RuntimeError("cannot decrypt: DANDELION_SECRET_KEY changed?")


def _signing_key(secret: str, generation: int) -> Ed25519PrivateKey:
    # Generation 1 is the key every certificate was signed with before rotation existed.
    return Ed25519PrivateKey.from_private_bytes(
        _derive(secret, f"dandelion/certificate-signing/v{generation}")
    )


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A signing key's public name: the start of its public key's SHA-256."""
    return hashlib.sha256(raw_public_key(public_key)).hexdigest()[:8]


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Keys:
    def __init__(self, secret: str, signing_generation: int = 1, crypto: str = STANDARD):
        if signing_generation < 1:
            raise ValueError("the signing key generation starts at 1")
        if crypto not in ALGORITHMS:
            raise ValueError(f"crypto is one of {', '.join(ALGORITHMS)}")
        self.crypto = crypto
        self._lookup = _derive(secret, "dandelion/lookup-hmac/v1")
        self._lookup_sm3 = crypto_hmac.HMAC(
            _derive(secret, "dandelion/lookup-hmac-sm3/v1", algorithm=hashes.SM3()), hashes.SM3()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, "dandelion/fernet/v1")))
        self._sm4 = _Sm4Gcm(sm4_key(secret))
        self.signing_generation = signing_generation
        self.signing_key = _signing_key(secret, signing_generation)
        # The public halves of this generation and every earlier one, oldest first.
        self._signing_public = [
            _signing_key(secret, g).public_key() for g in range(1, signing_generation + 1)
        ]
        self.csrf_key = _derive(secret, "dandelion/csrf/v1")
        self.flash_key = _derive(secret, "dandelion/flash/v1")
        self.link_key = _derive(secret, "dandelion/links/v1")
        self.audit_key = _derive(secret, "dandelion/audit-chain/v1")  # app/audit/chain.py

    def lookup_hash(self, value: str) -> str:
        """Keyed hash: equal inputs match, but a leaked table cannot be brute-forced without the key.
        HMAC-SM3 under the national algorithms; 64 hex digits either way."""
        if self.crypto == NATIONAL:
            mac = self._lookup_sm3.copy()
            mac.update(value.encode())
            return mac.finalize().hex()
        return hmac.new(self._lookup, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        if self.crypto == NATIONAL:
            sealed = self._sm4.seal(value.encode())
            return SM4_PREFIX + base64.urlsafe_b64encode(sealed).decode()
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Whichever algorithm sealed it: the token says."""
        if token.startswith(SM4_PREFIX):
            try:
                sealed = base64.urlsafe_b64decode(token.removeprefix(SM4_PREFIX))
            except ValueError as exc:
                raise _undecryptable() from exc
            return self._sm4.open(sealed).decode()
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise _undecryptable() from exc

    def encrypt_bytes(self, data: bytes) -> bytes:
        if self.crypto == NATIONAL:
            return _SM4_BYTES + self._sm4.seal(data)
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        if token.startswith(_SM4_BYTES):
            return self._sm4.open(token[len(_SM4_BYTES) :])
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise _undecryptable() from exc

    def is_current(self, token: str | bytes) -> bool:
        """Sealed under the configured algorithm: what `dandelion crypto migrate` leaves alone."""
        national = (
            token.startswith(SM4_PREFIX) if isinstance(token, str) else token.startswith(_SM4_BYTES)
        )
        return national == (self.crypto == NATIONAL)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def signing_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every generation's public key up to the current one, by key id, oldest first:
        the keys this secret may have signed certificates with."""
        return {key_id_of(key): key for key in self._signing_public}

    def public_key_b64(self) -> str:
        return base64.urlsafe_b64encode(raw_public_key(self.public_key)).decode().rstrip("=")


@lru_cache(maxsize=8)
def keys_for(secret: str, signing_generation: int = 1, crypto: str = STANDARD) -> Keys:
    return Keys(secret, signing_generation, crypto)


def keys_of_settings(settings) -> Keys:
    """An installation's keys, as its settings name them: the app's, the workers' and the
    commands' alike."""
    return keys_for(settings.secret_key, settings.signing_key_generation, settings.crypto)


def keys_of(session) -> Keys:
    """The keys of the installation a database session belongs to (app.db.session_factory puts
    them there): services find them beside the data they protect, never in a global."""
    try:
        return session.info["keys"]
    except KeyError:
        raise RuntimeError(
            "this session has no keys: open it with app.db.session_factory"
        ) from None


def token_digest(token: str) -> str:
    """Session and API tokens are random; a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()
