"""The event sources CloudTrail records network activity events for.

From the CloudTrail user guide, "Logging network activity events"
(logging-network-events-with-cloudtrail.html): the `eventSource` values of "Advanced event selector fields
for network activity events", as listed after the service expansions of 15 September and 15 October 2025.
CloudTrail adds services over time: a source newer than this list is refused, pointing to that page.
"""

from __future__ import annotations

NETWORK_ACTIVITY_SOURCES: frozenset[str] = frozenset(
    f"{service}.amazonaws.com"
    for service in (
        "aco-automation", "appconfig", "application-signals", "appmesh", "athena", "b2bi", "backup-gateway",
        "bcm-data-exports", "bcm-pricing-calculator", "bedrock-agentcore", "bedrock", "billing",
        "cassandra", "ce", "cloudcontrolapi", "cloudformation", "cloudhsm", "cloudoptimization",
        "cloudtrail", "codedeploy", "comprehend", "comprehendmedical", "config", "ds", "dynamodb", "ec2",
        "ecs", "elasticfilesystem", "elasticloadbalancing", "events", "firehose", "frauddetector",
        "freetier", "fsx", "glue", "healthlake", "invoicing", "iot", "iotfleetwise", "iotsecuredtunneling",
        "kms", "lakeformation", "lambda", "license-manager", "lookoutequipment", "lookoutvision",
        "monitoring", "nova-act", "personalize", "qbusiness", "rds", "rekognition", "rolesanywhere", "s3",
        "sagemaker", "scheduler", "secretsmanager", "servicediscovery", "sns", "sqs", "ssm-contacts", "ssm",
        "storagegateway", "swf", "textract", "transcribe", "transcribestreaming", "transform-agents",
        "transform-custom", "transform", "translate", "user-subscriptions", "verifiedpermissions",
        "voiceid", "workmail", "workmailmessageflow",
    )
)  # fmt: skip
