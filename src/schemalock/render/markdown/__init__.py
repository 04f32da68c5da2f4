"""`schemalock docs`: the lock as a Markdown document, in the spirit of the hand-written
"Database Schema Lock" it replaces: a summary, a Mermaid ER diagram, every table with its
purpose, wiring, columns, relations and indexes, the data flows and the query contracts; with a
verification (`docs --live`), a checklist of what holds in the live database.

Pure: a Lock (and a Verification) in, text out; no I/O, no clock. The same inputs give the same
bytes, so the document can be committed and diffed. Free text written by the lock's author
(purpose, wiring, comments, descriptions) is Markdown as written; generated text (finding
messages, database errors) is escaped, and identifiers always sit in code spans.
"""

from schemalock.render.markdown.checklist import Verification
from schemalock.render.markdown.document import demand, render
from schemalock.render.markdown.markup import describe_relation, safe_text_lines
from schemalock.render.markdown.mermaid import mermaid_token, mermaid_type

__all__ = [
    "Verification",
    "demand",
    "describe_relation",
    "mermaid_token",
    "mermaid_type",
    "render",
    "safe_text_lines",
]
