"""`audit-trail plan`: the stack previewed offline - the real program under Pulumi mocks, and the notes a
deployment needs beyond the graph."""
