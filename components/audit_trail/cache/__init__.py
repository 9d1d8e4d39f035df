"""The cache: what a scan of a log source leaves behind so later questions read only the files they need."""
