"""Conformance harness: raw transports, targets, requirement catalogue and the pytest plugin.

Nothing here depends on the codec binding: every byte is produced and parsed by the harness itself,
so a target is never judged by the code under test.
"""
