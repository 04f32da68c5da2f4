"""The seed-shaped data benchmark's section of bench/RESULTS.md."""

from __future__ import annotations

from bench_timing import Spread
from seed_bench import MAX_RULE_RATIO, MAX_WHOLE_RATIO, SeedResult
from seed_build import FULL_SIZE


def _s(spread: Spread) -> str:
    if spread.median < 1:
        return f"{spread.median * 1000:.0f} ({spread.low * 1000:.0f}-{spread.high * 1000:.0f}) ms"
    return f"{spread.show(2)} s"


def _verdict(met: bool) -> str:
    return "PASS" if met else "**MISS**"


def render(result: SeedResult) -> str:
    built = (
        "reused from an earlier run"
        if result.database.build_seconds is None
        else f"built in {result.database.build_seconds:.1f} s"
    )
    full = "" if result.size == FULL_SIZE else (
        f"  This is not the issue's full size ({FULL_SIZE.label}): "
        "`--seed-size full` builds that one."
    )  # fmt: skip
    lines = [
        f"## Seed-shaped data checks: {result.size.label} rows, "
        f"{result.server_version.split(' (')[0]}",
        "",
        f"`{result.display_url}` ({built}), {result.server_version}.  {result.facts}{full}",
        "",
        "The lock is `schemalock snapshot`'s plus the seed lock's data rules "
        "(`seed_twins.DATA_RULES`): `jobs.org_id` references `organizations.id`, "
        "`quota_usage.job_id` references `jobs.id`, patterns on `clerk_org_id` and "
        "`apify_run_id`, accepted values on `plan`, `status` and `usage_type`; mock-data on "
        "every table.  Each question below is what verify asked the database (captured by "
        "`seed_capture.py` from one verify run, with the rows verify got), and its twin the SQL "
        "a DBA would type for the same question (one pass per table with a FILTER per "
        "question, the mock detectors' own regexes with `~*` and no prefilter, one anti-join "
        "per relation, samples `LIMIT 20` as verify's, asked only when the count is "
        "positive).  Before timing, every answer was compared: verify's rows as it got them, "
        "the same statements replayed, and the twin's agree on every count and on how many "
        "distinct samples (the benchmark stops otherwise).",
        "",
        "Per question: verify's own statements for it, replayed on one connection (a psql "
        "session: autocommit, nothing prepared), then the twin's, alternating, "
        f"{result.runs} rounds after a warm-up; the server's time plus a loopback round trip.  "
        "Inside verify these statements go out together in a pipeline, so its `-vv` timings "
        "cannot be split per statement; replaying them is how the server's time per rule is "
        "measured.  `one scan of` is the shared per-table scan every data rule of the table "
        "reads (with the checks that the lock's values parse, which read no row).",
        "",
        f"| question | asked by | verify | twin | ratio | answer (both) | <= {MAX_RULE_RATIO:g}x |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in result.questions:
        lines.append(
            f"| {q.question.label} | {', '.join(q.question.rules)} | {_s(q.verify)} | "
            f"{_s(q.twin)} | {q.ratio.show(2)}x | {q.answer} | {_verdict(q.met)} |"
        )
    verify_sum = sum(q.verify.median for q in result.questions)
    twin_sum = sum(q.twin.median for q in result.questions)
    lines += [
        f"| sum of the medians | | {verify_sum:.2f} s | {twin_sum:.2f} s | "
        f"{verify_sum / twin_sum:.2f}x | | |",
        "",
        f"Whole run, {result.runs} pairs after a warm-up: `schemalock verify --lock <lock> "
        "--database-url <url> --statement-timeout 900 --format json` (structure and data, "
        f"one process; exits {result.verify_exit}) against every twin above run in order on "
        "one fresh connection (connecting included).",
        "",
        f"| whole run | verify | every twin | ratio | <= {MAX_WHOLE_RATIO:g}x |",
        "|---|---|---|---|---|",
        f"| {result.size.label} | {_s(result.whole_verify)} | {_s(result.whole_twins)} | "
        f"{result.whole_ratio.show(2)}x | {_verdict(result.whole_met)} |",
        "",
        "verify reported:",
        "",
        *(f"- {finding}" for finding in result.findings),
        "",
        "<details><summary>The twins' SQL</summary>",
        "",
        *(
            f"- {q.question.label}:\n\n  ```sql\n  {_indent(q.twin_sql)}\n  ```"
            for q in result.questions
        ),
        "",
        "</details>",
        "",
        "<details><summary>EXPLAIN ANALYZE of verify's slowest statement, then of its twin"
        "</summary>",
        "",
        "```",
        result.slowest_plan,
        "```",
        "",
        "```",
        result.slowest_twin_plan,
        "```",
        "",
        "</details>",
        "",
        "| seed-shaped target | measured | |",
        "|---|---|---|",
        *targets(result),
    ]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def targets(result: SeedResult) -> list[str]:
    """Rows of the targets table: label, measured, verdict."""
    worst = max(result.questions, key=lambda q: q.ratio.median)
    missed = [q for q in result.questions if not q.met]
    return [
        f"| seed-shaped {result.size.label}: every data question <= {MAX_RULE_RATIO:g}x its "
        f"twin | worst {worst.ratio.median:.2f}x ({worst.question.label}); "
        f"{len(missed)} of {len(result.questions)} over | {_verdict(not missed)} |",
        f"| seed-shaped {result.size.label}: whole verify <= {MAX_WHOLE_RATIO:g}x every twin "
        f"| {result.whole_ratio.median:.2f}x | {_verdict(result.whole_met)} |",
    ]
