"""HubSpot: `client.HubSpotClient` speaks the CRM API (error table, the portal's rate limits and
daily budget, search's own limit); `connector.HubSpotConnector` gives the engine validated
per-record batch writes and never-skipping incremental reads; `catalog.CATALOG` and
`preset.PRESET` describe the portal to the engine; `oauth` connects a portal.

    client = HubSpotClient(api_base, auth=private_app_auth(token))   # or RefreshingAuth(session)
    hs = HubSpotConnector(client)
    results = await hs.write("contacts", "create", [(ref, {"email": e, "associatedcompanyid": c})])
    async for page in hs.read_changed("contacts", ["email"], cursor, cap=run_started): ...
"""

from leadbridge.connectors.hubspot.catalog import CATALOG
from leadbridge.connectors.hubspot.client import HubSpotClient, classify
from leadbridge.connectors.hubspot.connector import HubSpotConnector
from leadbridge.connectors.hubspot.oauth import private_app_auth
from leadbridge.connectors.hubspot.preset import PRESET

__all__ = ["CATALOG", "PRESET", "HubSpotClient", "HubSpotConnector", "classify", "private_app_auth"]
