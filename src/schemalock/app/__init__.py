"""What the CLI runs besides verify and fix: snapshot, the demo and its embedded server."""
