"""Progress measures (GAS, RCI, supervision frequency), charts and the progress review."""
