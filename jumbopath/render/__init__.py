"""Renderers: pure functions of a report (table, JSON, Mermaid, DOT)."""
