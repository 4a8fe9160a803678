"""Password rules and argon2id hashing.

The cost parameters live in a `PasswordPolicy` value so that tests can pass a cheap one
explicitly; the production default is argon2-cffi's own `PasswordHasher()` defaults
(RFC 9106 low-memory profile), which upgrade with the library. Stored hashes whose
parameters differ from the policy's are rehashed at the next successful sign-in.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from shuttle.errors import BadInput
from shuttle.i18n import N_, Sentence

MIN_LENGTH = 10
# Long enough for any passphrase, short enough that hashing it cannot be used to burn CPU.
MAX_LENGTH = 1024

# The most common passwords and the "base words" people decorate with digits to reach
# the minimum length (checked after stripping trailing digits and punctuation).
COMMON_PASSWORDS = frozenset(
    """
    123456 1234567 12345678 123456789 1234567890 12345678910 0123456789 0987654321
    9876543210 1111111111 0000000000 1212121212 1122334455 1q2w3e4r5t 1qaz2wsx3edc
    qwerty qwertyuiop qwertyuiop123 asdfghjkl zxcvbnm qazwsx password passw0rd p@ssw0rd
    password1 password123 passwort motdepasse contrasena wachtwoord salasana
    letmein welcome welcome1 iloveyou admin administrator root changeme secret
    monkey dragon football baseball basketball soccer hockey sunshine princess shadow
    master superman batman trustno1 whatever starwars computer michael jennifer
    jordan23 charlie freedom hello hellohello abc123 abcdef abcdefgh abcdefghij
    abcd1234 aa123456 qwe123 zaq12wsx 1q2w3e4r 123qwe 123abc login access
    mustang killer harley ranger thomas daniel summer winter spring autumn
    liverpool chelsea arsenal manchester london england justice shuttle restorative
    """.split()
)


@dataclass
class PasswordPolicy:
    """Length rule, common-password list and argon2id cost parameters, in one place.

    `parameters=None` means argon2-cffi's defaults; build one policy in the composition
    root and pass it everywhere (it also keeps the dummy hash that makes a sign-in for a
    missing user cost as much as a real one).
    """

    parameters: Parameters | None = None
    min_length: int = MIN_LENGTH
    _dummy_hash: str | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def for_tests(cls) -> PasswordPolicy:
        """Cheapest argon2id settings: for test suites only, never for real accounts."""
        return cls(
            Parameters(
                type=Type.ID,
                version=19,
                salt_len=16,
                hash_len=16,
                time_cost=1,
                memory_cost=8,
                parallelism=1,
            )
        )

    def hasher(self) -> PasswordHasher:
        if self.parameters is None:
            return PasswordHasher()
        if self.parameters.type is not Type.ID:
            raise ValueError("passwords are hashed with argon2id only")
        return PasswordHasher.from_parameters(self.parameters)

    def check(self, password: str, *, username: str = "") -> None:
        """Refuse passwords that are too short, too long, or easy to guess (BadInput)."""
        if len(password) < self.min_length:
            raise BadInput(Sentence(N_("Choose a password of at least %(min)s characters."), min=self.min_length))
        if len(password) > MAX_LENGTH:
            raise BadInput(Sentence(N_("Choose a password of at most %(max)s characters."), max=MAX_LENGTH))
        lowered = password.lower()
        base = re.sub(r"[\d\W_]+$", "", lowered)
        if lowered in COMMON_PASSWORDS or base in COMMON_PASSWORDS:
            raise BadInput(N_("That password is too common and easy to guess. Choose another one."))
        if len(set(password)) < 4:
            raise BadInput(N_("That password uses too few different characters. Choose another one."))
        # Short usernames ("ana") would forbid too many honest passwords.
        if len(username) >= 4 and username.lower() in lowered:
            raise BadInput(N_("Your password must not contain your username."))

    def hash(self, password: str) -> str:
        return self.hasher().hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher().check_needs_rehash(password_hash)

    def verify_dummy(self, password: str) -> None:
        """Spend one argon2 run, as a real verification would, when there is no real hash.

        The first call builds the dummy hash (itself one run); later calls verify against it.
        """
        if self._dummy_hash is None:
            self._dummy_hash = self.hash(secrets.token_urlsafe(16))
            return
        self.verify(self._dummy_hash, password)
