"""Apollo.io: `client.ApolloClient` speaks the REST API; `accounts.ApolloAccounts` maps account
values onto the bulk endpoints, one WriteResult per input; `connector.ApolloConnector` is the
engine's connector; `catalog` and `preset` say what the engine and the lead push need to know."""

from leadbridge.connectors.apollo.client import ApolloClient, classify
from leadbridge.connectors.apollo.connector import ApolloConnector

__all__ = ["ApolloClient", "ApolloConnector", "classify"]
