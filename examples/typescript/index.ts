// The AuditTrail component, written in Python, used from TypeScript through the SDK that `pulumi install`
// generates into sdks/audit-trail. Every input is optional; the defaults are the secure ones.
import * as auditTrail from "@pulumi/audit-trail";

const trail = new auditTrail.AuditTrail("audit", {
    retentionDays: 365,
    readWriteType: "All",
    s3KeyPrefix: "org-audit",
    tags: { team: "security", "cost-center": "cc-1234" },
});

export const trailArn = trail.trailArn;
export const bucketName = trail.bucketName;
export const logsLocation = trail.logsLocation;
export const consoleUrl = trail.consoleUrl;
