"""A Salesforce sandbox served over HTTPS on a real socket, and a simple-salesforce client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp


@dataclass
class ServedOrg:
    sandbox: SalesforceSandbox
    url: str
    ca: Path

    def session(self) -> requests.Session:
        s = requests.Session()
        s.verify = str(self.ca)
        s.trust_env = False  # the machine's REQUESTS_CA_BUNDLE must not override our CA
        return s

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.sandbox.issue_session()}"}


@pytest.fixture
def sf_org() -> Iterator[ServedOrg]:
    sb = SalesforceSandbox(seed=4)
    cert, key, ca = sb.tls_files()
    with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sb.set_base_url(served.url)
        yield ServedOrg(sb, served.url, ca)
