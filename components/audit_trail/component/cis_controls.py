"""The fifteen CIS AWS Foundations monitoring controls (4.1-4.15): a metric filter and an alarm each.

Filter patterns are verbatim: 4.1-4.14 from the AWS Security Hub controls CloudWatch.1-14 (Security Hub
fails the control unless the exact pattern prescribed by CIS is used, with no term added), 4.15 from the CIS
benchmark, which Security Hub has no control for. CIS numbering is the one of benchmark v1.4.0 and later.
"""

from __future__ import annotations

from dataclasses import dataclass

METRIC_NAMESPACE = "CISBenchmark"


def metric_namespace(trail_name: str) -> str:
    """The CloudWatch namespace of one trail's CIS metrics, `CISBenchmark/<trail name>`.

    A metric is its namespace, name and dimensions in an account and region: with one namespace for every
    trail, two stacks with `cisAlarms` there would feed the same metrics, and each one's alarms would fire on
    the other trail's events. The trail's name is unique per account and region, and CloudWatch accepts it in
    a namespace (at most 255 characters, none of `:*$`; CloudWatch Logs API reference, MetricTransformation).
    Security Hub's CloudWatch.1-14 run the CIS audit steps: from the trail's log group to its metric filters,
    the exact pattern, the filter's metric, an alarm on that metric and the alarm's topic. The namespace is
    the user's choice: Security Hub's remediation suggests `CISBenchmark` ("You can use the same namespace for
    all of your CIS log metric filters"), which the prefix keeps."""
    return f"{METRIC_NAMESPACE}/{trail_name}"


# Alarm settings the Security Hub remediation prescribes: any matching event in a 5-minute period alarms.
ALARM_THRESHOLD = 1
ALARM_PERIOD_SECONDS = 300
ALARM_EVALUATION_PERIODS = 1
ALARM_STATISTIC = "Sum"
ALARM_COMPARISON = "GreaterThanOrEqualToThreshold"


@dataclass(frozen=True)
class CisControl:
    cis_id: str
    title: str
    security_hub_id: str | None
    metric_name: str
    filter_pattern: str

    @property
    def resource_suffix(self) -> str:
        """A stable, readable part of the metric filter's and alarm's names, e.g. `cis-4-1`."""
        return "cis-" + self.cis_id.replace(".", "-")


CIS_CONTROLS: tuple[CisControl, ...] = (
    CisControl(
        cis_id="4.1",
        title="Unauthorized API calls",
        security_hub_id="CloudWatch.2",
        metric_name="UnauthorizedAPICalls",
        filter_pattern='{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    ),
    CisControl(
        cis_id="4.2",
        title="Management Console sign-in without MFA",
        security_hub_id="CloudWatch.3",
        metric_name="ConsoleSignInWithoutMFA",
        filter_pattern=(
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
            '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
        ),
    ),
    CisControl(
        cis_id="4.3",
        title="Usage of the root user",
        security_hub_id="CloudWatch.1",
        metric_name="RootUserUsage",
        filter_pattern=(
            '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && '
            '$.eventType !="AwsServiceEvent"}'
        ),
    ),
    CisControl(
        cis_id="4.4",
        title="IAM policy changes",
        security_hub_id="CloudWatch.4",
        metric_name="IAMPolicyChanges",
        filter_pattern=(
            "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
            "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || "
            "($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
            "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || "
            "($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || "
            "($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
            "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || "
            "($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}"
        ),
    ),
    CisControl(
        cis_id="4.5",
        title="CloudTrail configuration changes",
        security_hub_id="CloudWatch.5",
        metric_name="CloudTrailConfigChanges",
        filter_pattern=(
            "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
            "($.eventName=StartLogging) || ($.eventName=StopLogging)}"
        ),
    ),
    CisControl(
        cis_id="4.6",
        title="Management Console authentication failures",
        security_hub_id="CloudWatch.6",
        metric_name="ConsoleAuthenticationFailures",
        filter_pattern='{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    ),
    CisControl(
        cis_id="4.7",
        title="Disabling or scheduled deletion of customer-managed keys",
        security_hub_id="CloudWatch.7",
        metric_name="DisableOrDeleteCMK",
        filter_pattern=(
            "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || "
            "($.eventName=ScheduleKeyDeletion))}"
        ),
    ),
    CisControl(
        cis_id="4.8",
        title="S3 bucket policy changes",
        security_hub_id="CloudWatch.8",
        metric_name="S3BucketPolicyChanges",
        filter_pattern=(
            "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || "
            "($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || "
            "($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
            "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || "
            "($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}"
        ),
    ),
    CisControl(
        cis_id="4.9",
        title="AWS Config configuration changes",
        security_hub_id="CloudWatch.9",
        metric_name="AWSConfigChanges",
        filter_pattern=(
            "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
            "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
            "($.eventName=PutConfigurationRecorder))}"
        ),
    ),
    CisControl(
        cis_id="4.10",
        title="Security group changes",
        security_hub_id="CloudWatch.10",
        metric_name="SecurityGroupChanges",
        filter_pattern=(
            "{($.eventName=AuthorizeSecurityGroupIngress) || "
            "($.eventName=AuthorizeSecurityGroupEgress) || "
            "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
            "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}"
        ),
    ),
    CisControl(
        cis_id="4.11",
        title="Network ACL changes",
        security_hub_id="CloudWatch.11",
        metric_name="NetworkACLChanges",
        filter_pattern=(
            "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || "
            "($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || "
            "($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}"
        ),
    ),
    CisControl(
        cis_id="4.12",
        title="Network gateway changes",
        security_hub_id="CloudWatch.12",
        metric_name="NetworkGatewayChanges",
        filter_pattern=(
            "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
            "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
            "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"
        ),
    ),
    CisControl(
        cis_id="4.13",
        title="Route table changes",
        security_hub_id="CloudWatch.13",
        metric_name="RouteTableChanges",
        filter_pattern=(
            "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || "
            "($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || "
            "($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
            "($.eventName=DisassociateRouteTable)}"
        ),
    ),
    CisControl(
        cis_id="4.14",
        title="VPC changes",
        security_hub_id="CloudWatch.14",
        metric_name="VPCChanges",
        filter_pattern=(
            "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || "
            "($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || "
            "($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || "
            "($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || "
            "($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || "
            "($.eventName=EnableVpcClassicLink)}"
        ),
    ),
    CisControl(
        cis_id="4.15",
        title="AWS Organizations changes",
        security_hub_id=None,
        metric_name="OrganizationsChanges",
        filter_pattern=(
            "{ ($.eventSource = organizations.amazonaws.com) && "
            '(($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || '
            '($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || '
            '($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || '
            '($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || '
            '($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || '
            '($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || '
            '($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || '
            '($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || '
            '($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
        ),
    ),
)
