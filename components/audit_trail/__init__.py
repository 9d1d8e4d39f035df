"""audit-trail: a tamper-evident CloudTrail audit trail for an AWS account, and the tools to read it."""
