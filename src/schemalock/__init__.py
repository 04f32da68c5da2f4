"""schemalock: a declarative schema lock for PostgreSQL, verified against the live database."""

__version__ = "0.1.0"
