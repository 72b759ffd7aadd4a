"""Test doubles of the oracle service, not part of its runtime: a fake Numerai GraphQL API (``fake_numerai``)
and an operator that runs the service against a local chain (``operator``), for the tests, the demo and
``backing simulate --oracle-service``."""
