"""The address a limit counts."""

import pytest
from starlette.requests import HTTPConnection

from app.auth.throttle import client_address


@pytest.mark.parametrize(
    ("host", "counted"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),  # the same subscriber's next address
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("2002:cb00:7109:1::1", "203.0.113.9"),  # 6to4: the IPv4 owner of all its /64s
        ("testclient", "testclient"),
    ],
)
def test_an_ipv6_client_counts_as_its_64(host, counted):
    assert client_address(HTTPConnection({"type": "http", "client": (host, 5000)})) == counted
