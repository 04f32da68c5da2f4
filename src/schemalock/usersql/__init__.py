"""SQL the user writes into the lock: the expression sandbox and the data flows it checks."""
