"""Shared fixtures. Real IMAP/SMTP servers for integration tests live in tests/servers/."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import databases
import pytest
from deployment import Deployment, deploy
from servers import (
    Dovecot,
    SmtpServer,
    TlsFiles,
    attach_dovecot_log,
    make_tls_files,
    mark_server_tests,
    require_dovecot,
)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """cert.pem (also the clients' CA file) and key.pem, shared by both servers."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def tls_dir(tls_files: TlsFiles) -> Path:
    return tls_files.cert.parent


@pytest.fixture(scope="session")
def dovecot(tls_files: TlsFiles) -> Iterator[Dovecot]:
    """One private Dovecot per session; use a fresh account per test (Dovecot.unique_user())."""
    with Dovecot(tls_files, binary=require_dovecot()) as server:
        yield server


@pytest.fixture
def imap_user(dovecot: Dovecot) -> str:
    """A fresh account on the session's Dovecot: primary-<hex>@example.test."""
    return dovecot.unique_user()


@pytest.fixture
def smtp_server(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    """A fresh SMTP server per test, so captures and planned failures never leak."""
    with SmtpServer(tls_files) as server:
        yield server


@pytest.fixture
def deployment(dovecot: Dovecot, smtp_server: SmtpServer, tmp_path: Path) -> Deployment:
    """Two group mailboxes, their SMTP accounts and a config file pointing intake at them."""
    return deploy(dovecot, smtp_server, tmp_path)


@pytest.fixture(autouse=True)
def own_databases() -> Iterator[None]:
    """On PostgreSQL, the databases a test made are dropped when it ends."""
    mark = databases.created()
    yield
    databases.drop_since(mark)


@pytest.fixture(scope="session", autouse=True)
def no_database_left() -> Iterator[None]:
    """What a module's or the session's fixtures made (before a test's mark) is dropped at
    the end of the run."""
    yield
    databases.drop_since(0)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_server_tests(items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    attach_dovecot_log(item, report)
    return report
