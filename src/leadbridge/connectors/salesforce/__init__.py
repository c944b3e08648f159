"""Salesforce: `client.SalesforceClient` speaks the REST API (classifier, budget from
Sforce-Limit-Info, describe cache, query paging, collections); `connector.SalesforceConnector`
gives the engine validated per-record writes and never-skipping incremental reads.

    client = SalesforceClient(instance_url, auth=RefreshingAuth(session, is_invalid_session))
    sf = SalesforceConnector(client)
    results = await sf.write("Contact", "create", [(ref, {"LastName": ...}), ...])
    async for page in sf.read_changed("Contact", ["Email"], cursor, cap=run_started): ...

Still to come (issue 3): Bulk API 2.0 paths for large loads and writes.
"""

from leadbridge.connectors.salesforce.client import SalesforceClient, classify, is_invalid_session
from leadbridge.connectors.salesforce.connector import Page, SalesforceConnector

__all__ = ["Page", "SalesforceClient", "SalesforceConnector", "classify", "is_invalid_session"]
