"""Helpers shared by the test suites, imported as modules (``from support.chain import reverts_with``).

``pytest.ini`` puts ``tests/`` on the path; fixtures stay in the suites' ``conftest.py``."""
