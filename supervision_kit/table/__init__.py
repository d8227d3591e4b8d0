"""The whole store as one table (load_store) with a safe index cache."""
