"""Keys derived from the one secret: ID-number hashing, field encryption, certificate signing.

Deriving every key from DANDELION_SECRET_KEY with HKDF means several app instances and
workers agree on all keys without sharing any file but their configuration.

Certificate signing keys come in generations (DANDELION_SIGNING_KEY_GENERATION): raising it
rotates the key new certificates are signed with. Every earlier generation is still derived, so
certificates signed before a rotation keep verifying; each key is known by its key id.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: str, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret.encode()
    )


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
    def __init__(self, secret: str, signing_generation: int = 1):
        if signing_generation < 1:
            raise ValueError("the signing key generation starts at 1")
        self._lookup = _derive(secret, "dandelion/lookup-hmac/v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(_derive(secret, "dandelion/fernet/v1")))
        self.signing_generation = signing_generation
        self.signing_key = _signing_key(secret, signing_generation)
        # The public halves of this generation and every earlier one, oldest first.
        self._signing_public = [
            _signing_key(secret, g).public_key() for g in range(1, signing_generation + 1)
        ]
        self.csrf_key = _derive(secret, "dandelion/csrf/v1")
        self.flash_key = _derive(secret, "dandelion/flash/v1")
        self.link_key = _derive(secret, "dandelion/links/v1")

    def lookup_hash(self, value: str) -> str:
        """Keyed hash: equal inputs match, but a leaked table cannot be brute-forced without the key."""
        return hmac.new(self._lookup, value.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong key: a configuration error, not user input
            raise RuntimeError("cannot decrypt: DANDELION_SECRET_KEY changed?") from exc

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as exc:
            raise RuntimeError("cannot decrypt: DANDELION_SECRET_KEY changed?") from exc

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


@lru_cache(maxsize=4)
def keys_for(secret: str, signing_generation: int = 1) -> Keys:
    return Keys(secret, signing_generation)


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
