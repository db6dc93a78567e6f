"""Rate limits count per process by default, once for every process with Redis, and fall back to the
process's own count when Redis is unreachable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from storedesk.kit import ratelimit
from storedesk.kit.errors import TooManyRequests
from storedesk.kit.ratelimit import RateLimit

REDIS_URL = os.environ.get("STOREDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("STOREDESK_REQUIRE_REDIS") == "1"


def _redis_up() -> bool:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_up():
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required (STOREDESK_REQUIRE_REDIS=1) but {REDIS_URL} is unreachable")
        pytest.skip("Redis is not reachable")
    return REDIS_URL


@pytest.fixture(autouse=True)
def _back_to_memory() -> Iterator[None]:
    yield
    ratelimit.configure(None)


def test_in_memory_by_default() -> None:
    assert ratelimit.backend() == "memory"
    limit = RateLimit("3/minute", f"test.{uuid.uuid4().hex}")
    assert [limit.hit("shop-1", "10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert limit.hit("shop-1", "10.0.0.2") is True  # another client has its own count
    with pytest.raises(TooManyRequests) as caught:
        limit.check("shop-1", "10.0.0.1")
    assert caught.value.status_code == 429
    assert 1 <= caught.value.details["retry_after"] <= 61
    # same spec, other name: counted apart
    assert RateLimit("3/minute", f"test.{uuid.uuid4().hex}").hit("shop-1", "10.0.0.1") is True


def test_every_process_counts_in_redis(redis_url: str) -> None:
    name, key = f"test.{uuid.uuid4().hex}", uuid.uuid4().hex
    other_process = (
        "import sys; from storedesk.kit import ratelimit; from storedesk.kit.ratelimit import RateLimit; "
        "ratelimit.configure(sys.argv[1]); limit = RateLimit('3/minute', sys.argv[2]); "
        "print([limit.hit(sys.argv[3]) for _ in range(3)])"
    )
    done = subprocess.run(
        [sys.executable, "-c", other_process, redis_url, name, key],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[True, True, True]"
    # in memory this process would still have all three
    assert RateLimit("3/minute", name).hit(key) is True
    ratelimit.configure(redis_url)
    assert ratelimit.backend() == "redis"
    limit = RateLimit("3/minute", name)
    assert limit.hit(key) is False
    with pytest.raises(TooManyRequests):
        limit.check(key)
    assert limit.hit(uuid.uuid4().hex) is True


def test_unreachable_redis_falls_back_to_this_process(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens once the socket closes
    ratelimit.configure(f"redis://127.0.0.1:{dead}/0")
    limit = RateLimit("2/minute", f"test.{uuid.uuid4().hex}")
    assert [limit.hit("k") for _ in range(3)] == [True, True, False]
    assert "unreachable; counting in this process" in caplog.text
