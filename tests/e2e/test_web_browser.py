"""The dashboard in a real headless Chromium, as a person uses it: sign in; connect the Salesforce
sandbox through its OAuth consent page; run a sync and see the counters change; open an error,
fix the data, retry it; undo a run and see the sandbox restored; upload a CSV with bad rows and
see them listed. Every step's page is saved as a screenshot (test-artifacts/browser/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.policy.crm import CrmSync, PolicyFile
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp
from leadbridge.web.app import create_app

from . import browser
from .crm_world import CrmWorld
from .web_world import PASSWORD, make_web

pytestmark = pytest.mark.skipif(browser.missing() is not None, reason=browser.missing() or "")


@pytest.fixture
def stack(hub: Hub, connections: Connections) -> Iterator[dict[str, Any]]:
    """The Salesforce sandbox over HTTPS and the web app on a loopback port, not yet connected."""
    sandbox = SalesforceSandbox(seed=11)
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served_sf:
        sandbox.set_base_url(served_sf.url)
        web = make_web(connections, PolicyFile(syncs={"salesforce": CrmSync()}))
        with ServedApp(create_app(web.state)) as served_web:
            yield {
                "sandbox": sandbox,
                "sf_url": served_sf.url,
                "ca": ca,
                "cert": cert,
                "url": served_web.url,
                "web": web,
                "crm": CrmWorld(sandbox, served_sf.url, hub, connections, CrmSync()),
            }


def wait_text(driver: Any, text: str, timeout: float = 60) -> None:
    # The page's text read by script: a live page swaps its nodes every few seconds, and
    # Chromium answers a lookup of a node swapped meanwhile with an error, not a stale element.
    WebDriverWait(driver, timeout).until(
        lambda d: text in (d.execute_script("return document.body.innerText") or "")
    )


def in_sync(driver: Any, url: str) -> int:
    driver.get(url + "/")
    cell = driver.find_element(By.CSS_SELECTOR, "#sync-salesforce tr:nth-child(2) td.in-sync")
    return int(cell.text)


def run_job(driver: Any, url: str, job: str) -> str:
    driver.get(url + "/runs")
    driver.find_element(By.ID, f"run-{job}-salesforce").click()
    WebDriverWait(driver, 90).until(ec.presence_of_element_located((By.ID, "message")))
    return str(driver.find_element(By.ID, "message").text)


def test_the_dashboard_end_to_end(stack: dict[str, Any], tmp_path: Path) -> None:
    url, crm, sandbox = stack["url"], stack["crm"], stack["sandbox"]
    client_id, secret = sandbox.register_connected_app([url + "/connections/callback"])
    sandbox.org.create(
        "Lead", {"LastName": "Early", "Company": "Early Co", "Email": "early@early.io"}
    )
    ok_person = crm.person(
        first_name="Ada", last_name="Lovelace", title="Analyst", email="ada@engines.io",
        company={"name": "Engines", "domain": "engines.io"},
    )  # fmt: skip
    crm.person(last_name="Noname", email="n@noname.io", company={"domain": "noname.io"})

    with browser.chromium(trusted_cert=Path(stack["cert"])) as driver:
        d: Any = driver
        # Sign in.
        d.get(url + "/")
        d.find_element(By.ID, "username").send_keys("ann")
        d.find_element(By.ID, "password").send_keys(PASSWORD)
        d.find_element(By.ID, "sign-in").click()
        wait_text(d, "Overview")
        browser.shot(d, "01-signed-in")

        # Connect the Salesforce sandbox through its OAuth consent page.
        d.get(url + "/connections")
        for field, value in (
            ("base-url", stack["sf_url"]),
            ("client-id", client_id),
            ("client-secret", secret),
            ("ca-file", str(stack["ca"])),
        ):
            d.find_element(By.ID, f"salesforce-{field}").send_keys(value)
        hours = d.find_element(By.ID, "salesforce-setup-hours")
        hours.clear()
        hours.send_keys("0")
        d.find_element(By.ID, "salesforce-authorize").click()
        wait_text(d, "Allow Access?")
        assert d.current_url.startswith(stack["sf_url"] + "/services/oauth2/authorize")
        browser.shot(d, "02-salesforce-consent")
        d.find_element(By.CSS_SELECTOR, "button[value=allow]").click()
        wait_text(d, "connected salesforce to Salesforce")
        browser.shot(d, "03-connected")
        assert crm.connections.get("salesforce").remote_scope == sandbox.org.id
        assert secret not in d.page_source

        # Run a sync; the counters change.
        assert in_sync(d, url) == 0
        assert "run" in run_job(d, url, "pull")
        said = run_job(d, url, "push")
        assert "succeeded" in said or "partial" in said, said
        assert in_sync(d, url) >= 2  # Early (pulled) and Ada (pushed)
        browser.shot(d, "04-overview-after-sync")
        assert any(r["Email"] == "ada@engines.io" for r in crm.rows("Lead"))

        # Open an error, fix the data, retry it.
        d.get(url + "/errors")
        wait_text(d, "the company has no name")
        browser.shot(d, "05-errors")
        link = next(
            a
            for a in d.find_elements(By.CSS_SELECTOR, "a.record-link")
            if "company" in a.get_attribute("href")
        )
        link.click()
        name = d.find_element(By.ID, "field-name")
        name.send_keys("Noname Corp")
        d.find_element(By.ID, "save").click()
        wait_text(d, "saved: name")
        d.get(url + "/errors")
        d.find_element(By.ID, "retry-all").click()
        wait_text(d, "will be retried on the next run")
        run_job(d, url, "push")
        (fixed,) = [r for r in crm.rows("Lead") if r["Email"] == "n@noname.io"]
        assert fixed["Company"] == "Noname Corp"
        d.get(url + "/errors")
        assert "the company has no name" not in d.page_source
        browser.shot(d, "06-error-fixed")

        # Undo a run: change a title, push it, undo that run; Salesforce holds the old title.
        d.get(url + f"/records/person/{ok_person}")
        title = d.find_element(By.ID, "field-title")
        title.clear()
        title.send_keys("Chief Engine Officer")
        d.find_element(By.ID, "save").click()
        wait_text(d, "saved: title")
        said = run_job(d, url, "push")
        run_id = said.split("run ", 1)[1].split(" ", 1)[0]
        (ada,) = [r for r in crm.rows("Lead") if r["Email"] == "ada@engines.io"]
        assert ada["Title"] == "Chief Engine Officer"
        d.get(url + f"/runs/{run_id}")
        d.find_element(By.ID, "undo").click()
        wait_text(d, f"Undo run {run_id}?")
        browser.shot(d, "07-undo-confirm")
        d.find_element(By.ID, "confirm-undo").click()
        wait_text(d, "Undone: restored 1")
        browser.shot(d, "08-undone")
        (ada,) = [r for r in crm.rows("Lead") if r["Email"] == "ada@engines.io"]
        assert ada["Title"] == "Analyst"

        # Upload a CSV with bad rows: they are listed, the good ones imported.
        upload = tmp_path / "people.csv"
        upload.write_text(
            "email,first_name,owner\ngood@x.io,Good,\nnot-an-address,Bad,\nugly@x.io,Ugly,nobody@x.io\n"
        )
        d.get(url + "/imports")
        Select(d.find_element(By.ID, "kind")).select_by_value("people")
        d.find_element(By.ID, "file").send_keys(str(upload))
        d.find_element(By.ID, "upload").click()
        wait_text(d, "1 created")
        rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "tr.row-error")]
        assert len(rows) == 2 and rows[0].startswith("3 ") and rows[1].startswith("4 ")
        assert "not a hub user" in rows[1]
        browser.shot(d, "09-import-errors")
