"""The rule catalogue as text (`schemalock rules`), Markdown (`docs/rules.md`) and one rule's
page (`schemalock explain`), all from the registry, so the docs cannot drift from the code."""

from __future__ import annotations

from schemalock.rules import RULES, Rule


def table() -> str:
    lines = [f"{'code':<7} {'name':<22} {'severity':<8} {'category':<11} summary"]
    for rule in RULES:
        lines.append(
            f"{rule.code:<7} {rule.name:<22} {rule.severity.value:<8} "
            f"{rule.category.value:<11} {rule.summary()}"
        )
    return "\n".join(lines) + "\n"


def explain(rule: type[Rule]) -> str:
    head = (
        f"{rule.code} {rule.name} ({rule.severity.value}, {rule.category.value}"
        f"{', offline' if _offline(rule) else ''}"
        f"{', lint only' if rule.lint_only else ''}"
        f"{', diff only' if rule.diff_only else ''}"
        f"{', fix available' if rule.fixable else ''})"
    )
    return f"{head}\n\n{rule.documentation()}\n"


def markdown() -> str:
    parts = [
        "# schemalock rules\n",
        "Generated from the rule registry by `schemalock rules --format markdown`; do not edit.\n",
        "| code | name | severity | category | summary |",
        "|---|---|---|---|---|",
    ]
    parts += [
        f"| {r.code} | [`{r.name}`](#{r.code.lower()}-{r.name}) | {r.severity.value} | "
        f"{r.category.value} | {r.summary()} |"
        for r in RULES
    ]
    for rule in RULES:
        doc = rule.documentation().replace("\n## ", "\n### ")
        summary, _, body = doc.partition("\n")
        parts.append(
            f"\n## {rule.code} {rule.name}\n\n{summary}\n\nSeverity: {rule.severity.value}."
            f" Category: {rule.category.value}."
            f"{' Runs offline (`schemalock lint`).' if _offline(rule) else ''}"
            f"{' Only in `schemalock lint`.' if rule.lint_only else ''}"
            f"{' Only in `schemalock diff`.' if rule.diff_only else ''}"
            f"\n{body.rstrip()}"
        )
    return "\n".join(parts) + "\n"


def _offline(rule: type[Rule]) -> bool:
    """`lint` runs it (diff's rules need no database either, but only diff reports them)."""
    return not rule.needs_database and not rule.diff_only
