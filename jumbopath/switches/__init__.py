"""Switches: read them (SNMP or data), map layer 2, name the port that breaks a path."""
