"""The Athena table over a trail's bucket: CloudTrail's record schema and partition projection on account,
region and date, so no crawler or `MSCK REPAIR` is needed. The component creates it; the CLI queries it.

Pure definitions (no AWS SDK): the Glue table's columns follow the Athena User Guide's CloudTrail table
("Creating the table for CloudTrail logs in Athena using partition projection").
"""

from __future__ import annotations

from collections.abc import Sequence

from ..cloudtrail_layout import logs_root

DEFAULT_DATABASE = "audit_trail"
DEFAULT_TABLE = "cloudtrail_logs"
DEFAULT_WORKGROUP = "audit-trail"

# CloudTrail's record schema as the Athena documentation's CloudTrail table declares it (lower-case names).
_IDENTITY = (
    "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,"
    "username:string,onbehalfof:struct<userid:string,identitystorearn:string>,"
    "sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,"
    "sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>,"
    "ec2roledelivery:string,webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>"
)
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("eventversion", "string"),
    ("useridentity", _IDENTITY),
    ("eventtime", "string"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "string"),
    ("responseelements", "string"),
    ("additionaleventdata", "string"),
    ("requestid", "string"),
    ("eventid", "string"),
    ("readonly", "string"),
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("recipientaccountid", "string"),
    ("serviceeventdetails", "string"),
    ("sharedeventid", "string"),
    ("vpcendpointid", "string"),
    ("vpcendpointaccountid", "string"),
    ("eventcategory", "string"),
    (
        "addendum",
        "struct<reason:string,updatedfields:string,originalrequestid:string,originaleventid:string>",
    ),
    ("sessioncredentialfromconsole", "string"),
    ("edgedevicedetails", "string"),
    ("tlsdetails", "struct<tlsversion:string,ciphersuite:string,clientprovidedhostheader:string>"),
)
PARTITION_KEYS: tuple[tuple[str, str], ...] = (
    ("account", "string"),
    ("region", "string"),
    ("date", "string"),
)
SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
INPUT_FORMAT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"


def projection_parameters(
    bucket: str, prefix: str, accounts: Sequence[str], regions: Sequence[str], start: str = "NOW-7YEARS"
) -> dict[str, str]:
    """Glue table parameters: partition projection over the trail's key layout (no crawler, no MSCK REPAIR).

    START is the first projected day (`yyyy/MM/dd` or relative, e.g. `NOW-7YEARS`); queries name their days.
    """
    return {
        "EXTERNAL": "TRUE",
        "classification": "cloudtrail",
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.date.type": "date",
        "projection.date.format": "yyyy/MM/dd",
        "projection.date.range": f"{start},NOW",
        "projection.date.interval": "1",
        "projection.date.interval.unit": "DAYS",
        "storage.location.template": f"s3://{bucket}/{logs_root(prefix)}"
        + "${account}/CloudTrail/${region}/${date}",
    }
