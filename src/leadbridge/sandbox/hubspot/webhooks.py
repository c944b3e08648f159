"""Webhook subscriptions and signed deliveries (reference A11; HubSpot's signature vectors).

Subscriptions are set through the admin surface (HubSpot's need a developer key, which this
sandbox does not emulate): a target URL on a loopback address, the app whose client secret signs
the deliveries, and event types (`contact.creation`, `company.propertyChange` with a
`propertyName`, `contact.merge`, `contact.privacyDeletion`, `object.creation` for engagements…).
Events go out from a background thread in POSTs of at most 100, a JSON array each, with
`X-HubSpot-Signature-v3` = base64(HMAC-SHA256(secret, method + uri + body + timestamp)) and
`X-HubSpot-Request-Timestamp` (epoch ms), plus the legacy v1 signature. A failed POST is retried
`webhook_retries` times. `deliveries` records every attempt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import queue
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from leadbridge.sandbox.hubspot.knobs import HubSpotKnobs
from leadbridge.sandbox.hubspot.objects import TYPES

LOOPBACK = ("127.0.0.1", "localhost", "::1")
NAMED = ("contacts", "companies", "deals")
BATCH = 100


def sign_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    digest = hmac.new(
        secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


def sign_v1(secret: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{body}".encode()).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{method}{uri}{body}".encode()).hexdigest()


class Webhooks:
    def __init__(self, portal_id: int, knobs: HubSpotKnobs) -> None:
        self.portal_id, self.knobs = portal_id, knobs
        self.target_url: str | None = None
        self.app_id = ""
        self.secret = ""
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._events = itertools.count(1)
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self._busy = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def configure(self, target_url: str, app_id: str, secret: str) -> None:
        host = urlsplit(target_url).hostname or ""
        if host not in LOOPBACK:
            raise ValueError("webhook targets must be on a loopback address")
        self.target_url, self.app_id, self.secret = target_url, app_id, secret

    def subscribe(self, event_type: str, property_name: str | None, now_ms: int) -> dict[str, Any]:
        kind, _, action = event_type.partition(".")
        known = {t.singular for t in TYPES.values() if t.name in NAMED} | {"object"}
        if kind not in known or not action:
            raise ValueError(f"unknown event type {event_type}")
        if action == "propertyChange" and not property_name:
            raise ValueError("a propertyChange subscription needs a propertyName")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now_ms / 1000)) + "Z"
        sub_id = next(self._ids)
        sub: dict[str, Any] = {
            "id": sub_id,
            "eventType": event_type,
            "active": True,
            "createdAt": stamp,
            "updatedAt": stamp,
            **({"propertyName": property_name} if property_name else {}),
        }
        self.subscriptions[sub_id] = sub
        return dict(sub)

    def unsubscribe(self, sub_id: int) -> bool:
        return self.subscriptions.pop(sub_id, None) is not None

    # --- events (called under the portal lock) ---------------------------------------------------

    def __call__(self, change: dict[str, Any]) -> None:
        if not self.target_url or not self.subscriptions:
            return
        kind = TYPES[change["type"]]
        prefix = kind.singular if kind.name in NAMED else "object"
        event_type = f"{prefix}.{change['kind']}"
        for sub in self.subscriptions.values():
            if not sub["active"] or sub["eventType"] != event_type:
                continue
            if change["kind"] == "propertyChange" and sub.get("propertyName") != change["property"]:
                continue
            self._queue.put(self._event(sub, change, kind.type_id, prefix == "object"))
        self._start()

    def _event(
        self, sub: dict[str, Any], change: dict[str, Any], type_id: str, generic: bool
    ) -> dict[str, Any]:
        writer = change["writer"]
        event: dict[str, Any] = {
            "eventId": next(self._events),
            "subscriptionId": sub["id"],
            "portalId": self.portal_id,
            "appId": int(self.app_id) if self.app_id.isdigit() else self.app_id,
            "occurredAt": int(time.time() * 1000),
            "subscriptionType": sub["eventType"],
            "attemptNumber": 0,
            "objectId": int(change["id"]),
            "changeSource": writer.source,
            "sourceId": f"userId:{writer.user_id}" if writer.user_id else writer.source_id,
        }
        if generic:
            event["objectTypeId"] = type_id
        if change["kind"] == "propertyChange":
            event |= {"propertyName": change["property"], "propertyValue": change["value"]}
        if change["kind"] == "merge":
            event |= {
                "primaryObjectId": int(change["primary"]),
                "mergedObjectIds": [int(i) for i in change["merged"] if i != change["primary"]],
                "newObjectId": int(change["id"]),
                "numberOfPropertiesMoved": change["moved"],
            }
        return event

    # --- delivery ---------------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="hubspot-webhooks", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while True:
                first = self._queue.get()
                self._busy.set()
                batch = [first]
                while len(batch) < BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._deliver(client, batch)
                for _ in batch:
                    self._queue.task_done()
                self._busy.clear()

    def _deliver(self, client: httpx.Client, events: list[dict[str, Any]]) -> None:
        import json

        for attempt in range(self.knobs.webhook_retries + 1):
            for event in events:
                event["attemptNumber"] = attempt
            body = json.dumps(events, separators=(",", ":"))
            timestamp = str(int(time.time() * 1000))
            uri = self.target_url or ""
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Signature": sign_v1(self.secret, body),
                "X-HubSpot-Signature-Version": "v1",
                "X-HubSpot-Signature-v3": sign_v3(self.secret, "POST", uri, body, timestamp),
                "X-HubSpot-Request-Timestamp": timestamp,
                "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
            }
            try:
                status = client.post(uri, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                status = 0
                error = str(exc)
            else:
                error = ""
            self.deliveries.append(
                {"attempt": attempt, "status": status, "events": len(events), "error": error}
            )
            if 200 <= status < 300:
                return
            time.sleep(self.knobs.webhook_retry_delay)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event was delivered (or given up on)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0 and not self._busy.is_set():
                return True
            time.sleep(0.01)
        return False
