"""Provider entry point: serves AuditTrail to TypeScript, Go, C#, Java and YAML programs.

The Pulumi language host runs this folder (`python provider/ <engine address> ...`) in the virtualenv it built
from requirements.txt, after `pulumi package add <repository>.git/provider@<tag>`.
"""

from audit_trail.component.provider_schema import COMPONENTS, PACKAGE_NAME
from pulumi.provider.experimental import component_provider_host

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE_NAME)
