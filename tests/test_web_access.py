"""Who may open the pages: browsers on loopback only; cross-site form posts refused."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from northstar.errors import AccessError
from northstar.web.runtime import check_page_access


def request(client: str, method: str = "GET", origin: str | None = None) -> Request:
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    scope = {"type": "http", "method": method, "path": "/", "headers": headers,
             "client": (client, 50000), "query_string": b""}  # fmt: skip
    return Request(scope)


@pytest.mark.parametrize("client", ["127.0.0.1", "::1", "127.0.0.5"])
def test_loopback_browsers_open_the_pages(client: str) -> None:
    check_page_access(request(client))
    check_page_access(request(client, "POST", origin="http://127.0.0.1:8000"))


def test_other_machines_get_a_clear_refusal() -> None:
    with pytest.raises(AccessError, match="loopback interface only") as caught:
        check_page_access(request("10.1.2.3"))
    assert caught.value.status == 403


def test_a_form_posted_from_another_site_is_refused() -> None:
    with pytest.raises(AccessError, match="another site"):
        check_page_access(request("127.0.0.1", "POST", origin="https://evil.example"))
