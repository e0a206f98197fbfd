"""Real servers on 127.0.0.1 for integration tests: a private Dovecot and an aiosmtpd SMTP.

They stand in for imap.qq.com:993 and smtp.qq.com:465: implicit TLS with a certificate the client
verifies, QQ's capabilities, folders and error replies. The fixtures are in tests/conftest.py.
Imported as the top-level package `servers` (pytest puts tests/ on sys.path, since tests/ has no
__init__.py).
"""

from servers.certs import TlsFiles, make_tls_files
from servers.dovecot import (
    DEFAULT_PASSWORD,
    QQ_CAPABILITIES,
    QQ_FOLDERS,
    Dovecot,
    DovecotError,
    FetchedMessage,
    attach_dovecot_log,
    client_ssl_context,
    mark_server_tests,
    require_dovecot,
)
from servers.smtp import DEFAULT_USER, CapturedMessage, SmtpServer

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_USER",
    "QQ_CAPABILITIES",
    "QQ_FOLDERS",
    "CapturedMessage",
    "Dovecot",
    "DovecotError",
    "FetchedMessage",
    "SmtpServer",
    "TlsFiles",
    "attach_dovecot_log",
    "client_ssl_context",
    "make_tls_files",
    "mark_server_tests",
    "require_dovecot",
]
