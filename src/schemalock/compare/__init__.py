"""Stage 4, comparison: pair the objects of two models and say how they differ.

Pure: no SQL, no I/O.  Every consumer (the rules, the fix planner, the renderers) reads the
same typed differences (`differences`), so "where is a foreign key compared?" has one answer:
`matching.match_foreign_keys`, called once per table by `database.compare`.
"""

from schemalock.compare.database import Comparison, compare

__all__ = ["Comparison", "compare"]
