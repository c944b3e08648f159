from tests.e2e.conftest import apollo_sandbox, crm, twin, world  # noqa: F401  (shared fixtures)
