"""Compliance hardening of the AuditTrail: optional resources and trail settings, one module per option."""
