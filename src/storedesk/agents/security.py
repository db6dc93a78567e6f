"""Passwords (argon2id through pwdlib) and the acting-agent context."""

from __future__ import annotations

from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from storedesk.agents.models import Role, TokenKind
from storedesk.kit.actor import Actor
from storedesk.kit.errors import Forbidden

_hasher = PasswordHash((Argon2Hasher(),))
# verified against when the email is unknown, so timing does not reveal which agents exist
_DUMMY_HASH = _hasher.hash("storedesk-timing-equaliser")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _DUMMY_HASH) and password_hash is not None


ROLE_RANK = {Role.viewer: 0, Role.agent: 1, Role.admin: 2}


@dataclass(frozen=True, slots=True)
class AuthContext:
    """The authenticated agent a request or command acts as; every repository is scoped by shop_id."""

    shop_id: int
    agent_id: int
    role: Role
    token_kind: TokenKind
    token_id: int
    csrf_token: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor("agent", self.agent_id)

    def require(self, role: Role) -> None:
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise Forbidden(
                f"this action needs the {role.value} role; you are {self.role.value}",
                details={"required_role": role.value, "role": self.role.value},
                reason="role_required",
            )
