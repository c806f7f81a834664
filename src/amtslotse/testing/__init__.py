"""Test support shipped inside the package, for the tests of Amtslotse and of third-party parts
(like haystack's `haystack.testing`): `amtslotse.testing.store` is the store conformance suite.

Only tests import this package: its modules import pytest at the top, and pytest is a test
extra (`pip install amtslotse[test]`), not a runtime dependency.
"""
