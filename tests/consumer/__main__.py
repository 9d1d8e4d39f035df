"""Another project reusing the component as after `pip install audit-trail`: its own args and outputs."""

import pulumi
from audit_trail import AuditTrail, AuditTrailArgs, ReadWriteType

args: AuditTrailArgs = {
    "trail_name": "security-writes",
    "read_write_type": ReadWriteType.WRITE_ONLY,
    "retention_days": 400,
    "s3_key_prefix": "security",
    "bucket_name": "consumer-security-logs",
    "tags": {"owner": "secops"},
}
trail = AuditTrail("security", args, opts=pulumi.ResourceOptions(protect=True))

pulumi.export("writesTrail", trail.trail_arn)
pulumi.export("writesLogs", trail.logs_location)
