"""`schemalock fix`: plan, prove and write the Alembic revision that repairs drift."""
