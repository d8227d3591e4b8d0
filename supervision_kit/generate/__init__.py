"""Making workbooks: templates rendered by papermill into the store, in small steps."""
