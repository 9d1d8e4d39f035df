"""Log integrity (`verify`: CloudTrail's digest chain) and trail health (`doctor`)."""
