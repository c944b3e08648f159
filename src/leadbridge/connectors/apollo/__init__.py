"""Apollo.io: `client.ApolloClient` speaks the REST API; `connector.ApolloAccounts` maps the
hub's company payloads onto bulk endpoints and answers one WriteResult per input."""

from leadbridge.connectors.apollo.client import ApolloClient, classify
from leadbridge.connectors.apollo.connector import AccountPayload, ApolloAccounts

__all__ = ["AccountPayload", "ApolloAccounts", "ApolloClient", "classify"]
