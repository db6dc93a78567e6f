"""The storedesk command: real database, clear errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("storedesk"))


def run(
    args: list[str], data: Path, url: str | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STOREDESK_DATA_DIR": str(data), "STOREDESK_SECRET_KEY": "cli-test-secret"}
    env.pop("STOREDESK_DATABASE_URL", None)
    if url:
        env["STOREDESK_DATABASE_URL"] = url
    return subprocess.run([EXE, *args], env=env, capture_output=True, text=True, timeout=120, input=input)


def test_shop_token_and_jobs_commands(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    assert (tmp_path / "storedesk.db").exists()
    r = run(
        [
            "shop",
            "create",
            "acme",
            "--name",
            "Acme",
            "--admin-email",
            "boss@acme.test",
            "--languages",
            "en,de",
            "--admin-password",
            "long-enough-password",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "shop acme created (id 1)"
    r = run(["token", "create", "--shop", "acme", "--email", "boss@acme.test"], tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("sd_") and len(token) > 40

    r = run(["token", "create", "--shop", "acme", "--email", "nobody@acme.test"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: shop acme has no agent nobody@acme.test"
    assert "Traceback" not in r.stderr
    r = run(["token", "create", "--shop", "nope", "--email", "boss@acme.test"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: shop nope not found"
    r = run(
        [
            "shop",
            "create",
            "acme",
            "--name",
            "Again",
            "--admin-email",
            "x@acme.test",
            "--admin-password",
            "long-enough-password",
        ],
        tmp_path,
    )
    assert r.returncode == 1
    assert r.stderr.strip() == "error: a shop with slug 'acme' already exists"

    r = run(["jobs", "list", "--status", "dead"], tmp_path)
    assert (r.returncode, r.stdout) == (0, "")
    r = run(["jobs", "list", "--status", "zombie"], tmp_path)
    assert r.returncode == 1
    assert "unknown status 'zombie'" in r.stderr
    r = run(["jobs", "retry"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: give a job id or --all-dead"
    r = run(["jobs", "retry", "12345"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: job 12345 not found"
    r = run(["db", "current"], tmp_path)
    assert r.returncode == 0 and r.stdout.strip() != "none"


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    r = run(
        ["token", "create", "--shop", "x", "--email", "y@z.test"],
        tmp_path,
        url="postgresql://nobody@127.0.0.1:1/none",
    )
    assert r.returncode == 1
    assert r.stderr.startswith("error: ")
    assert "Traceback" not in r.stderr


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    r = run(["serve", "--workers", "2"], tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: several API processes need PostgreSQL (set STOREDESK_DATABASE_URL)"


@pytest.mark.parametrize("args", [["--help"], ["db", "--help"], ["jobs", "--help"]])
def test_help(tmp_path: Path, args: list[str]) -> None:
    r = run(args, tmp_path)
    assert r.returncode == 0
    assert "Usage" in r.stdout
