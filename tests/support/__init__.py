"""Helpers the tests share: generated and real log folders, signed digest chains, graph lookups."""
