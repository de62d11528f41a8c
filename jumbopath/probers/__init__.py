"""Probers send probes and report outcomes: raw sockets for real, a simulated path for tests."""
