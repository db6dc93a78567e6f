"""The self-service packages share one set of fixtures (defined in tests/helpcenter/conftest.py)."""

from tests.helpcenter.conftest import _fresh_state, _hash_test_passwords_once, app, client

__all__ = ["_fresh_state", "_hash_test_passwords_once", "app", "client"]
