"""The audit-trail stack: stack config -> one AuditTrail -> its outputs."""

import pulumi
from audit_trail import AuditTrail
from audit_trail.component.config import load_stack_config

trail = AuditTrail("audit-trail", load_stack_config())

for output_name, value in trail.stack_outputs().items():
    pulumi.export(output_name, value)
