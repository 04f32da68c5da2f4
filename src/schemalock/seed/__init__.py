"""The seed database: its lock (`schema_lock.yaml`, also at the repository root) and the
demo database built in the state its document describes."""
