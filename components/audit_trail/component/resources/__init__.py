"""The component's resources, one builder per concern, each taking the component's `Context`."""
