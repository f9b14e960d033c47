"""The two algorithm families for data at rest, through Keys' public methods."""

import base64

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.security import SM4_PREFIX, Keys, sm4_key

SECRET = "a-secret-key-for-these-tests-that-is-long-enough-0123"


def _sm4_open(sealed: bytes) -> bytes:
    """SM4-GCM as an assessor would open it, with cryptography alone: nonce, data, tag."""
    nonce, body, tag = sealed[:12], sealed[12:-16], sealed[-16:]
    decryptor = Cipher(algorithms.SM4(sm4_key(SECRET)), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(b"dandelion/sm4-gcm/v1")
    return decryptor.update(body) + decryptor.finalize()


def test_national_text_is_sm4_gcm_with_a_fresh_nonce_and_fernet_refuses_it():
    keys = Keys(SECRET, crypto="national")
    token = keys.encrypt("370102199001011237")
    assert token.startswith(SM4_PREFIX)
    sealed = base64.urlsafe_b64decode(token.removeprefix(SM4_PREFIX))
    assert _sm4_open(sealed) == b"370102199001011237"
    assert len(sealed) == 12 + 18 + 16
    assert keys.encrypt("370102199001011237") != token  # a random nonce each time
    with pytest.raises(InvalidToken):
        Fernet(Fernet.generate_key()).decrypt(token)


def test_national_bytes_are_sm4_gcm_and_a_changed_byte_is_refused():
    keys = Keys(SECRET, crypto="national")
    sealed = keys.encrypt_bytes(b"ID,name\n370102199001011237,Zhang\n")
    assert sealed.startswith(b"sm4:")
    assert _sm4_open(sealed[4:]) == b"ID,name\n370102199001011237,Zhang\n"
    damaged = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(RuntimeError, match="cannot decrypt"):
        keys.decrypt_bytes(damaged)


def test_either_family_reads_what_the_other_sealed():
    standard, national = Keys(SECRET), Keys(SECRET, crypto="national")
    assert national.decrypt(standard.encrypt("13800138000")) == "13800138000"
    assert standard.decrypt(national.encrypt("13800138000")) == "13800138000"
    assert standard.decrypt_bytes(national.encrypt_bytes(b"x")) == b"x"
    assert national.decrypt_bytes(standard.encrypt_bytes(b"x")) == b"x"
    assert national.is_current(national.encrypt("a")) and not national.is_current("gAAAAAB")
    assert standard.is_current(standard.encrypt_bytes(b"a"))
    assert not standard.is_current(national.encrypt_bytes(b"a"))


def test_another_secret_cannot_open_a_national_value():
    token = Keys(SECRET, crypto="national").encrypt("13800138000")
    with pytest.raises(RuntimeError, match="cannot decrypt"):
        Keys("another-secret-that-is-long-enough-0123456789", crypto="national").decrypt(token)


def test_national_lookup_hash_is_hmac_sm3_under_a_key_of_its_own():
    national, standard = Keys(SECRET, crypto="national"), Keys(SECRET)
    digest = national.lookup_hash("370102199001011237")
    assert len(digest) == 64 and digest == national.lookup_hash("370102199001011237")
    assert digest != standard.lookup_hash("370102199001011237")
    # HMAC-SM3 under a key derived from the secret with HKDF-SM3, as app.security documents.
    key = HKDF(
        algorithm=hashes.SM3(), length=32, salt=None, info=b"dandelion/lookup-hmac-sm3/v1"
    ).derive(SECRET.encode())
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(b"370102199001011237")
    assert mac.finalize().hex() == digest


def test_an_unknown_family_is_refused():
    with pytest.raises(ValueError, match="crypto"):
        Keys(SECRET, crypto="sm9")
