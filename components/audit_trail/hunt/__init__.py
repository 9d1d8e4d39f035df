"""Detection and attribution over the trail: Sigma rules (`hunt`), actors followed through the sessions they
opened (`--follow-sessions`) and MITRE ATT&CK context from TrailDiscover's catalogue."""
