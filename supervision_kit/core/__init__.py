"""The record itself: workbooks, journals, the read rule, the append path and the one
notebook writer. It imports nothing from above it."""
