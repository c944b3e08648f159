from tests.e2e.conftest import apollo_sandbox, world  # noqa: F401  (shared fixtures)
