"""Salesforce: `client.SalesforceClient` speaks the REST API (classifier, budget from
Sforce-Limit-Info, describe cache, query paging, collections); `connector.SalesforceConnector`
is the engine's connector (validated per-record writes through Collections or Bulk 2.0, reads by
a cursor that never skips); `catalog` and `preset` say what the engine and the policy need to
know of Salesforce's objects.

    client = SalesforceClient(instance_url, auth=RefreshingAuth(session, is_invalid_session))
    sf = SalesforceConnector(client)
    results = await sf.write("Contact", "create", [(ref, {"LastName": ...}), ...])
    async for page in sf.read_changed("Contact", ["Email"], cursor, cap=run_started): ...
"""

from leadbridge.connectors.salesforce.client import SalesforceClient, classify, is_invalid_session
from leadbridge.connectors.salesforce.connector import SalesforceConnector

__all__ = ["SalesforceClient", "SalesforceConnector", "classify", "is_invalid_session"]
