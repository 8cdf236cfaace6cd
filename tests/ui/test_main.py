"""``python -m ui``: loopback by default; any other address needs --auth; bad arguments exit 2 with a message."""

from __future__ import annotations

import pytest

from ui.__main__ import _is_loopback, main


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.0.2.10", False)])
def test_only_loopback_hosts_count_as_local(host, loopback):
    assert _is_loopback(host) is loopback


def test_non_loopback_host_without_auth_is_refused(capsys):
    assert main(["--host", "0.0.0.0"]) == 2
    assert "--auth" in capsys.readouterr().err


@pytest.mark.parametrize("auth", ["nocolon", ":password", "user:"])
def test_malformed_auth_is_refused(auth, capsys):
    assert main(["--host", "0.0.0.0", "--auth", auth]) == 2
    assert "user:password" in capsys.readouterr().err
