from tests.e2e.conftest import apollo_sandbox, crm, world  # noqa: F401  (shared fixtures)
