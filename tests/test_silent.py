"""Silent when clean: `snapshot` then `verify --fail-on info` of the same database reports
nothing, at any severity, with the data checks on, on every real schema the suite can build:
Django's contrib apps and pgbench as their tools create them, a Prisma app and a Drizzle app
as their migrations leave them (tests/data/prisma_app.sql and drizzle_app.sql, written in the
style those tools generate), the seed database after its repair, and
tests/data/rich_schema.sql.  Each gets realistic rows, so the rules that read rows (mock-data,
uuid-stored-as-text, duplicate-table, ...) have something to judge; the migration tools' own
bookkeeping tables get the rows their tools write.

A gate that is noisy on a clean database gets switched off; so the cases that made it noisy
are here too, each one a finding that fired before and must not now, beside the findings the
same rules must still make.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from conftest import ROOT, execute, query, run_cli
from test_real_world_django import migrate_django

pytestmark = pytest.mark.db

DATA = ROOT / "tests" / "data"


def snapshot(url: str, lock: Path) -> str:
    result = run_cli("snapshot", "--database-url", url, "--output", str(lock))
    assert result.exit_code == 0, result.stderr
    return lock.read_text(encoding="utf-8")


def verify(url: str, lock: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *options
    )
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"verify did not print JSON (exit {result.exit_code}):\n{result.stderr}")
    return result.exit_code, report


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['code']} {f['rule']} {f['schema']}.{f['table']}.{f['column'] or f['constraint']}:"
        f" {f['message']}"
        for f in findings
    )


def assert_silent(url: str, tmp_path: Path) -> str:
    """Snapshot `url`, then verify it against that lock at every severity: no finding, nothing
    inconclusive, exit 0; and the lock the snapshot wrote is valid (lint exit 0).  Returns the
    lock's text."""
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(url, lock)
    linted = run_cli("lint", "--lock", str(lock), "--fail-on", "info")
    assert linted.exit_code == 0, linted.stdout + linted.stderr
    code, report = verify(url, lock, "--fail-on", "info")
    assert report["findings"] == [], describe(report["findings"])
    assert report["inconclusive"] == []
    assert code == 0
    return text


def rules_of(report: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return sorted((f["rule"], f["table"], f["column"]) for f in report["findings"])


# -- Django -------------------------------------------------------------------------------------

DJANGO_ROWS = """
INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name,
                       email, is_staff, is_active, date_joined) VALUES
    ('pbkdf2_sha256$600000$Wq3n8sLr2VbX$J1m0cYkq9vRr2yQ4W6kQ8r3nqkqE3b8o1dS2bX0h3sE=',
     '2025-03-02 08:14:00+00', true, 'mkowalska', 'Marta', 'Kowalska', 'marta@kowalska.pl',
     true, true, '2024-11-18 10:00:00+00'),
    ('pbkdf2_sha256$600000$Lp0d4KqZ7wTy$Hh2o8Zr3Y1tq0bK7wL9mC5vN2xP4sR6dF8gJ1kA3uE=',
     NULL, false, 'tobias.berg', 'Tobias', 'Berg', 'tobias.berg@posteo.de',
     false, true, '2025-01-07 16:42:00+00');
INSERT INTO auth_group (name) VALUES ('Editors'), ('Support');
INSERT INTO auth_user_groups (user_id, group_id)
SELECT u.id, g.id FROM auth_user u, auth_group g
WHERE (u.username, g.name) IN (('mkowalska', 'Editors'), ('tobias.berg', 'Support'));
INSERT INTO auth_group_permissions (group_id, permission_id)
SELECT g.id, p.id FROM auth_group g, auth_permission p
WHERE g.name = 'Editors' AND p.codename IN ('add_flatpage', 'change_flatpage');
INSERT INTO django_flatpage (url, title, content, enable_comments, template_name,
                             registration_required) VALUES
    ('/about/', 'About us', '<p>We build scheduling software for clinics.</p>', false, '', false),
    ('/terms/', 'Terms of service', '<p>Effective 1 March 2025.</p>', false, '', false);
INSERT INTO django_flatpage_sites (flatpage_id, site_id)
SELECT f.id, s.id FROM django_flatpage f, django_site s;
INSERT INTO django_redirect (site_id, old_path, new_path)
SELECT id, '/pricing-2024/', '/pricing/' FROM django_site;
INSERT INTO django_session (session_key, session_data, expire_date) VALUES
    ('k3v9q2w7x1z8m4n6b5c0d2f7g9h1j3l5', '.eJxVjDsOwjAQBO_iGhnHdpyQkp43WHt3FxzQ',
     '2025-04-01 00:00:00+00');
INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, change_message,
                              content_type_id, user_id)
SELECT '2025-03-02 08:20:00+00', f.id::text, 'About us', 2,
       '[{"changed": {"fields": ["Content"]}}]', ct.id, u.id
FROM django_flatpage f, django_content_type ct, auth_user u
WHERE f.url = '/about/' AND ct.model = 'flatpage' AND u.username = 'mkowalska';
"""


def test_django_contrib_schema_with_rows_is_silent(database: str, tmp_path: Path) -> None:
    migrate_django(database)
    execute(database, DJANGO_ROWS)
    text = assert_silent(database, tmp_path)
    assert "django_migrations" in yaml.safe_load(text)["tables"]


# -- pgbench --------------------------------------------------------------------------------------


def test_pgbench_schema_is_silent_and_its_unindexed_keys_are_advice(
    database: str, tmp_path: Path
) -> None:
    """pgbench leaves the columns of its five foreign keys unindexed, by design: no drift.
    Asked for (`--select advice`, or by the rule's name or code), the advice is there."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        pytest.skip("pgbench is not installed")
    params = conninfo_to_dict(database)
    command = [pgbench, "-i", "-s", "1", "-I", "dtgvpf", "-q"]
    for option, name in (("-h", "host"), ("-p", "port"), ("-U", "user")):
        if params.get(name):
            command += [option, str(params[name])]
    env = {"PGPASSWORD": str(params["password"])} if params.get("password") else {}
    done = subprocess.run(
        [*command, str(params["dbname"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**_path_env(), **env},
    )
    assert done.returncode == 0, done.stderr
    assert query(database, "SELECT count(*) FROM pgbench_accounts")[0][0] == 100_000

    assert_silent(database, tmp_path)
    lock = tmp_path / "schema_lock.yaml"
    for selector in ("advice", "fk-missing-index", "SL204"):
        code, report = verify(database, lock, "--select", selector)
        assert [f["rule"] for f in report["findings"]] == ["fk-missing-index"] * 5, selector
        assert {f["category"] for f in report["findings"]} == {"advice"}
        assert code == 0  # warnings
    # A code prefix selects the integrity rules, not the advice among their codes.
    code, report = verify(database, lock, "--select", "SL2", "--fail-on", "info")
    assert (code, report["findings"]) == (0, [])


def _path_env() -> dict[str, str]:
    """The environment without libpq's PG* variables: the command line says where to go."""
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


# -- Prisma: a team task tracker ----------------------------------------------------------------

PRISMA_SCHEMA = (DATA / "prisma_app.sql").read_text(encoding="utf-8")

# What `prisma migrate deploy` writes (a v4 uuid as text, the migration file's sha256) and
# what the app's users write.  Ids are cuids, as Prisma's @default(cuid()) makes them.
PRISMA_ROWS = """
INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs,
                                rolled_back_at, started_at, applied_steps_count) VALUES
    ('6513270e-269e-4d37-b2a7-4de452e6b438',
     '8564d29a175491ce96b999fe008d5757cb933087601a97ae26668bcebcc86416',
     '2024-09-17 08:36:14.208+00', '20240917083522_init', NULL, NULL,
     '2024-09-17 08:36:13.761+00', 1),
    ('d23f0824-128b-4f33-8c5c-7fd0a6a3a450',
     'ae2b450872e05abae2c9a0ef93983c5a97ed2978a89c4ae2f4cf2e298754e43a',
     '2024-10-21 14:12:40.951+00', '20241021140533_estimates_and_invitations', NULL, NULL,
     '2024-10-21 14:12:40.702+00', 1),
    ('9531985d-5d9d-49f8-9818-e811892f902b',
     '9ead61c9a47d9a129da62a6f68b3f77fa58aabee421e3093eadfa39083afd1c1',
     '2024-12-02 09:20:03.117+00', '20241202091547_upgrade_to_v6', NULL, NULL,
     '2024-12-02 09:20:02.986+00', 1),
    ('36f675cc-81e7-4ef5-a8e2-5d940ed90475',
     '34f12c37e37fabe38fc0bea607313a59d129f4606aced51b16b46adea5aaf89e',
     '2025-01-14 16:40:51.430+00', '20250114163208_activity_log', NULL, NULL,
     '2025-01-14 16:40:51.188+00', 1);

INSERT INTO "User" ("id", "email", "name", "avatarUrl", "createdAt", "updatedAt",
                    "timezone") VALUES
    ('cm166plwwc3jux7q27kxzdmiv', 'amara@riverbend.io', 'Amara Okonkwo',
     'https://avatars.githubusercontent.com/u/31874209', '2024-09-17 08:41:02.418',
     '2025-01-15 07:02:11.930', 'Africa/Lagos'),
    ('cm167j1bsc3jvx7q23hs4h3vj', 'jonas.lindqvist@riverbend.io', 'Jonas Lindqvist', NULL,
     '2024-09-17 09:03:55.120', '2024-09-17 09:03:55.120', 'Europe/Stockholm'),
    ('cm17yc5sgc3jwx7q2z81jfkfv', 'sofia.herrera@riverbend.io', 'Sofía Herrera',
     'https://lh3.googleusercontent.com/a/ACg8ocJ4rT2mKq9vXbN7wLp0sYd3hFz',
     '2024-09-18 14:22:10.564', '2024-10-02 07:31:18.002', 'America/Bogota'),
    ('cm1rj9ou8c3jxx7q2xk7zh902', 'h.tanaka@riverbend.io', 'Hiroshi Tanaka', NULL,
     '2024-10-02 07:15:44.381', '2024-10-02 07:15:44.381', 'UTC');
INSERT INTO "Team" ("id", "name", "slug", "createdAt", "updatedAt") VALUES
    ('cm166rhtcc3jyx7q298fbyh71', 'Platform', 'platform', '2024-09-17 08:42:30.016',
     '2024-09-17 08:42:30.016'),
    ('cm1rjf754c3jzx7q2026jhdkl', 'Growth', 'growth', '2024-10-02 07:20:01.544',
     '2024-10-02 07:20:01.544');
INSERT INTO "Membership" ("id", "userId", "teamId", "role", "joinedAt") VALUES
    ('cm166rhtcc3k0x7q2qpvfrmxx', 'cm166plwwc3jux7q27kxzdmiv', 'cm166rhtcc3jyx7q298fbyh71',
     'OWNER', '2024-09-17 08:42:30.016'),
    ('cm167jeg0c3k1x7q2bvsq1our', 'cm167j1bsc3jvx7q23hs4h3vj', 'cm166rhtcc3jyx7q298fbyh71',
     'MEMBER', '2024-09-17 09:04:12.480'),
    ('cm17yd8dcc3k2x7q294n288ef', 'cm17yc5sgc3jwx7q2z81jfkfv', 'cm166rhtcc3jyx7q298fbyh71',
     'ADMIN', '2024-09-18 14:23:00.372'),
    ('cm1rjf754c3k3x7q2o93j8s9y', 'cm1rj9ou8c3jxx7q2xk7zh902', 'cm1rjf754c3jzx7q2026jhdkl',
     'OWNER', '2024-10-02 07:20:01.544'),
    ('cm1rjtpioc3k4x7q2xeu9g3ez', 'cm17yc5sgc3jwx7q2z81jfkfv', 'cm1rjf754c3jzx7q2026jhdkl',
     'MEMBER', '2024-10-02 07:31:18.002');
INSERT INTO "Project" ("id", "teamId", "key", "name", "description", "archived", "createdAt",
                       "updatedAt") VALUES
    ('cm1671f2gc3k5x7q2ruduzfj3', 'cm166rhtcc3jyx7q298fbyh71', 'PAY', 'Payments',
     'Card and bank transfer payments behind the checkout.', false, '2024-09-17 08:50:13.745',
     '2024-09-17 08:50:13.745'),
    ('cm1rjmgpsc3k6x7q2u9fgkk7h', 'cm1rjf754c3jzx7q2026jhdkl', 'ONB', 'Onboarding', NULL, false,
     '2024-10-02 07:25:40.290', '2024-10-02 07:25:40.290');
INSERT INTO "Task" ("id", "projectId", "number", "title", "description", "status", "priority",
                    "assigneeId", "reporterId", "dueDate", "createdAt", "updatedAt",
                    "completedAt", "estimate") VALUES
    ('cm194t0dcc3k7x7q2pd3fwvjl', 'cm1671f2gc3k5x7q2ruduzfj3', 1,
     'Retry failed webhook deliveries with backoff',
     'Merchants miss order updates when their endpoint is down for a few minutes.', 'DONE',
     'HIGH', 'cm167j1bsc3jvx7q23hs4h3vj', 'cm166plwwc3jux7q27kxzdmiv', '2024-10-04 00:00:00',
     '2024-09-19 10:11:00.204', '2024-10-01 16:20:45.611', '2024-10-01 16:20:45.611', 5),
    ('cm1f4zb6gc3k8x7q2k76hktgs', 'cm1671f2gc3k5x7q2ruduzfj3', 2,
     'Refunds over 10,000 EUR need a second approver', NULL, 'IN_REVIEW', 'URGENT',
     'cm17yc5sgc3jwx7q2z81jfkfv', 'cm166plwwc3jux7q27kxzdmiv', '2025-01-31 00:00:00',
     '2024-09-23 15:02:31.877', '2025-01-22 09:14:50.318', NULL, 8),
    ('cm1ytt5xcc3k9x7q26y2jcwoq', 'cm1rjmgpsc3k6x7q2u9fgkk7h', 1,
     'Shorten the signup form to email and password',
     'Company size and role move to the first-run checklist.', 'IN_PROGRESS', 'MEDIUM',
     'cm17yc5sgc3jwx7q2z81jfkfv', 'cm1rj9ou8c3jxx7q2xk7zh902', NULL,
     '2024-10-07 09:45:12.093', '2024-10-09 13:02:27.450', NULL, 3),
    ('cm64yshmwc3kax7q2vudqftuw', 'cm1671f2gc3k5x7q2ruduzfj3', 3,
     'Checkout end-to-end run flakes on Safari 17', NULL, 'TODO', 'LOW', NULL,
     'cm167j1bsc3jvx7q23hs4h3vj', NULL, '2025-01-20 11:30:05.529', '2025-01-21 16:40:22.806',
     NULL, NULL);
INSERT INTO "Comment" ("id", "taskId", "authorId", "body", "createdAt", "updatedAt") VALUES
    ('cm196nlqwc3kbx7q2xwtmsmyl', 'cm194t0dcc3k7x7q2pd3fwvjl', 'cm167j1bsc3jvx7q23hs4h3vj',
     'Exponential backoff, six attempts over 24 hours; what still fails goes to the ops queue.',
     '2024-09-19 11:02:47.315', '2024-09-19 11:02:47.315'),
    ('cm1g5xq8oc3kcx7q2khutej1p', 'cm1f4zb6gc3k8x7q2k76hktgs', 'cm17yc5sgc3jwx7q2z81jfkfv',
     'The approval step reuses the role check from the payouts screen.',
     '2024-09-24 08:17:03.660', '2024-09-24 08:19:40.102'),
    ('cm66pbd9sc3kdx7q2j9tofmyr', 'cm64yshmwc3kax7q2vudqftuw', 'cm166plwwc3jux7q27kxzdmiv',
     'Seen twice on Safari 17.3: the 3-D Secure frame loads after our 10 s timeout.',
     '2025-01-21 16:40:22.806', '2025-01-21 16:40:22.806');
INSERT INTO "Label" ("id", "teamId", "name", "color") VALUES
    ('cm1677kioc3kex7q210ajo0n8', 'cm166rhtcc3jyx7q298fbyh71', 'backend', '#2563eb'),
    ('cm1677rgoc3kfx7q2z5o9zou3', 'cm166rhtcc3jyx7q298fbyh71', 'compliance', '#dc2626'),
    ('cm1rjnjaoc3kgx7q2v921vk1h', 'cm1rjf754c3jzx7q2026jhdkl', 'frontend', '#16a34a');
INSERT INTO "_LabelToTask" ("A", "B") VALUES
    ('cm1677kioc3kex7q210ajo0n8', 'cm194t0dcc3k7x7q2pd3fwvjl'),
    ('cm1677kioc3kex7q210ajo0n8', 'cm1f4zb6gc3k8x7q2k76hktgs'),
    ('cm1677rgoc3kfx7q2z5o9zou3', 'cm1f4zb6gc3k8x7q2k76hktgs'),
    ('cm1rjnjaoc3kgx7q2v921vk1h', 'cm1ytt5xcc3k9x7q26y2jcwoq');
INSERT INTO "Invitation" ("id", "teamId", "email", "role", "token", "invitedById",
                          "expiresAt", "acceptedAt", "createdAt") VALUES
    ('cm331j5m0c3khx7q2rmooy4dx', 'cm166rhtcc3jyx7q298fbyh71', 'lucia.marino@riverbend.io',
     'MEMBER', 'bSXPc0xJod0nPk2Pq19b240QmewF6P3H', 'cm166plwwc3jux7q27kxzdmiv',
     '2024-11-11 13:12:09.884', NULL, '2024-11-04 13:12:09.884'),
    ('cm6yw0o20c3kix7q2sazk4lzf', 'cm1rjf754c3jzx7q2026jhdkl', 'p.novak@studio-lumen.cz',
     'ADMIN', 'wdc0d3ZIq3O94gGCUEXk2jLaXpZ5a50w', 'cm1rj9ou8c3jxx7q2xk7zh902',
     '2025-02-17 10:05:33.140', '2025-02-11 08:47:56.302', '2025-02-10 10:05:33.140');
INSERT INTO "Activity" ("id", "taskId", "actorId", "type", "data", "createdAt") VALUES
    ('cm64yshmwc3kjx7q2be4fsk2v', 'cm64yshmwc3kax7q2vudqftuw', 'cm167j1bsc3jvx7q23hs4h3vj',
     'TASK_CREATED', NULL, '2025-01-20 11:30:05.529'),
    ('cm66pbd9sc3kkx7q2vocrcen1', 'cm64yshmwc3kax7q2vudqftuw', 'cm166plwwc3jux7q27kxzdmiv',
     'COMMENTED', '{"commentId": "cm66pbd9sc3kdx7q2j9tofmyr"}', '2025-01-21 16:40:22.806'),
    ('cm67ou9e8c3klx7q2gfaqug78', 'cm1f4zb6gc3k8x7q2k76hktgs', 'cm17yc5sgc3jwx7q2z81jfkfv',
     'STATUS_CHANGED', '{"from": "IN_PROGRESS", "to": "IN_REVIEW"}', '2025-01-22 09:14:50.318');
"""


def test_prisma_app_migrations_with_rows_are_silent(database: str, tmp_path: Path) -> None:
    """`_prisma_migrations.id` holds a uuid in a varchar by Prisma's design: bookkeeping, not
    data, so not `uuid-stored-as-text`.  Prisma indexes no foreign key by itself: a key no
    @@index or @@unique leads with is advice."""
    execute(database, PRISMA_SCHEMA + PRISMA_ROWS)
    text = assert_silent(database, tmp_path)
    assert "_prisma_migrations" in yaml.safe_load(text)["tables"]
    code, report = verify(database, tmp_path / "schema_lock.yaml", "--select", "advice")
    assert rules_of(report) == [
        ("fk-missing-index", "Activity", "actorId"),
        ("fk-missing-index", "Comment", "authorId"),
        ("fk-missing-index", "Invitation", "invitedById"),
        ("fk-missing-index", "Membership", "teamId"),
        ("fk-missing-index", "Task", "reporterId"),
    ], describe(report["findings"])
    assert code == 0


# -- Drizzle: a bookmarks and reading-list app --------------------------------------------------

DRIZZLE_SCHEMA = (DATA / "drizzle_app.sql").read_text(encoding="utf-8")

# The migrator's history (a sha256 per migration file, its journal's `when`), and readers'
# bookmarks: the deprecated `highlight`/`highlight_reaction` hold the highlights from before
# the move to anchors, `highlight_v2`/`highlight_reaction_v2` the ones after.
DRIZZLE_ROWS = """
INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES
    ('8db845d150aa6ecd940f169e2b729a54fd51aabcfc90552f083e1652db25ae8a', 1728414763517),
    ('bb40cebc45547453c229b79656867d913c04991c055e9d1c65325330e0918df9', 1730544485261),
    ('9c74da4d360062c36a8e68107e1df1192a2636201c2f7fc4c78b9e8ffb5b9240', 1736458217904),
    ('368021328a8aa7b0ac82eec53ad7d86ec7ac7b7360ead4205ddf44f7325ab95a', 1741075552338);

INSERT INTO "user" ("id", "email", "name", "created_at") VALUES
    ('b693c55a-902d-46aa-9454-feed17fbd2a1', 'maya.goldberg@hey.com', 'Maya Goldberg',
     '2024-10-09 07:41:26'),
    ('3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f', 'tomas.ribeiro@sapo.pt', 'Tomás Ribeiro',
     '2024-10-14 20:03:11'),
    ('c481e998-176d-4f94-aaad-ad77f15a4c4f', 'aoife@byrne.ie', NULL, '2025-01-11 12:30:48');
INSERT INTO "collection" ("id", "user_id", "name", "is_public", "created_at",
                          "sort_order") VALUES
    ('23c9d76b-ec5a-49e2-a56e-35cae0faad1d', 'b693c55a-902d-46aa-9454-feed17fbd2a1',
     'Databases', true, '2024-10-09 07:45:02', 0),
    ('53b5a70d-331e-4c02-8555-057ae154536b', 'b693c55a-902d-46aa-9454-feed17fbd2a1',
     'Cooking', false, '2024-10-20 18:12:37', 1),
    ('d7b7a716-65ef-4dfa-be50-73a005286c62', '3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f',
     'Weekend reads', false, '2024-10-14 20:05:59', 0);
INSERT INTO "bookmark" ("id", "user_id", "collection_id", "url", "title", "excerpt", "status",
                        "created_at", "read_at", "site_name") VALUES
    ('75b8b072-8237-4b5d-99cf-ae749110703a', 'b693c55a-902d-46aa-9454-feed17fbd2a1',
     '23c9d76b-ec5a-49e2-a56e-35cae0faad1d',
     'https://www.postgresql.org/docs/current/ddl-constraints.html',
     'PostgreSQL: Documentation: Constraints',
     'Data types are a way to limit the kind of data that can be stored in a table.',
     'finished', '2024-10-09 07:46:10', '2024-11-03 21:14:02', 'PostgreSQL Documentation'),
    ('673515ca-d51e-4c2d-a3bf-3ce0c4e5f623', 'b693c55a-902d-46aa-9454-feed17fbd2a1',
     '23c9d76b-ec5a-49e2-a56e-35cae0faad1d',
     'https://use-the-index-luke.com/sql/where-clause/the-equals-operator/concatenated-keys',
     'Concatenated Keys: multi-column indexes', NULL, 'reading', '2025-01-09 22:02:44', NULL,
     'Use The Index, Luke'),
    ('c58060c1-afb0-4405-9fb8-974a4cc5cb32', 'b693c55a-902d-46aa-9454-feed17fbd2a1',
     '53b5a70d-331e-4c02-8555-057ae154536b',
     'https://www.seriouseats.com/food-lab-complete-guide-to-sous-vide-steak',
     'The Food Lab''s Complete Guide to Sous Vide Steak', NULL, 'unread',
     '2025-01-12 17:25:09', NULL, 'Serious Eats'),
    ('261e4942-9afc-4c92-84c3-e0d346bc5a9a', '3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f',
     'd7b7a716-65ef-4dfa-be50-73a005286c62',
     'https://www.quantamagazine.org/how-birds-navigate-by-the-earths-magnetic-field',
     'How birds find their way by the Earth''s magnetic field',
     'Robins wait for a clear night before they set off.', 'finished',
     '2024-10-14 20:07:30', '2024-10-19 09:40:15', NULL),
    ('8a835506-a265-40fa-a476-a60fe4e22abe', 'c481e998-176d-4f94-aaad-ad77f15a4c4f', NULL,
     'https://fs.blog/first-principles/', 'First Principles: Elon Musk on the Power of Thinking',
     NULL, 'abandoned', '2025-01-11 12:34:51', NULL, 'Farnam Street');
INSERT INTO "tag" ("id", "user_id", "name") VALUES
    ('97b308ea-a904-4101-8c4a-2a003d0aebc4', 'b693c55a-902d-46aa-9454-feed17fbd2a1', 'postgres'),
    ('0268c3f0-7481-49df-ba10-a849530d5b9f', 'b693c55a-902d-46aa-9454-feed17fbd2a1', 'indexing'),
    ('bcf4ab1f-522a-44ae-b23a-c14e82a87fa7', 'b693c55a-902d-46aa-9454-feed17fbd2a1', 'recipes'),
    ('21fbc268-8c3c-4911-9cd6-db944281e941', '3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f', 'science');
INSERT INTO "bookmark_tag" ("bookmark_id", "tag_id") VALUES
    ('75b8b072-8237-4b5d-99cf-ae749110703a', '97b308ea-a904-4101-8c4a-2a003d0aebc4'),
    ('673515ca-d51e-4c2d-a3bf-3ce0c4e5f623', '97b308ea-a904-4101-8c4a-2a003d0aebc4'),
    ('673515ca-d51e-4c2d-a3bf-3ce0c4e5f623', '0268c3f0-7481-49df-ba10-a849530d5b9f'),
    ('c58060c1-afb0-4405-9fb8-974a4cc5cb32', 'bcf4ab1f-522a-44ae-b23a-c14e82a87fa7'),
    ('261e4942-9afc-4c92-84c3-e0d346bc5a9a', '21fbc268-8c3c-4911-9cd6-db944281e941');
INSERT INTO "highlight" ("id", "bookmark_id", "quote", "note", "start_offset", "end_offset",
                         "created_at") VALUES
    ('5387e721-e134-4151-ad28-28c9e8adc5a6', '75b8b072-8237-4b5d-99cf-ae749110703a',
     'A check constraint is the most generic constraint type.', NULL, 1204, 1259,
     '2024-11-03 20:58:41'),
    ('2fa66d26-c8e1-435e-8b5f-02e2dd0b14d8', '261e4942-9afc-4c92-84c3-e0d346bc5a9a',
     'Robins wait for a clear night before they set off.', 'Ask Inês about the ringing data.',
     88, 139, '2024-10-19 09:31:07');
INSERT INTO "highlight_reaction" ("highlight_id", "user_id", "emoji", "reacted_at") VALUES
    ('5387e721-e134-4151-ad28-28c9e8adc5a6', '3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f', '👍',
     '2024-11-04 08:12:55');
INSERT INTO "highlight_v2" ("id", "bookmark_id", "quote", "note", "anchor", "color",
                            "created_at") VALUES
    ('0e1094b9-4f52-4db8-8273-319536dfdfcd', '673515ca-d51e-4c2d-a3bf-3ce0c4e5f623',
     'the column order of a concatenated index has great impact on its usability',
     'Put the equality column first.',
     '{"type": "TextQuoteSelector", "exact": "the column order of a concatenated index",
       "prefix": "The most important consideration is ", "suffix": " has great impact"}',
     'green', '2025-01-09 22:20:13'),
    ('b9eed9b6-1032-4f32-a26b-d30193b784e7', 'c58060c1-afb0-4405-9fb8-974a4cc5cb32',
     'rest the steak for a minute before searing', NULL,
     '{"type": "TextPositionSelector", "start": 4120, "end": 4162}', 'yellow',
     '2025-01-12 17:40:26');
INSERT INTO "highlight_reaction_v2" ("highlight_id", "user_id", "emoji", "reacted_at") VALUES
    ('0e1094b9-4f52-4db8-8273-319536dfdfcd', 'c481e998-176d-4f94-aaad-ad77f15a4c4f', '💡',
     '2025-01-13 10:02:19'),
    ('b9eed9b6-1032-4f32-a26b-d30193b784e7', '3d3622ec-5bc2-4a46-9621-4fe29d0e0b3f', '🔥',
     '2025-01-14 19:47:03');
"""


# The move to anchors, begun: the old highlights and their reactions copied into the v2 tables.
DRIZZLE_BACKFILL = """
INSERT INTO highlight_v2 (id, bookmark_id, quote, note, anchor, created_at)
SELECT id, bookmark_id, quote, note,
       jsonb_build_object('type', 'TextPositionSelector', 'start', start_offset,
                          'end', end_offset),
       created_at
FROM highlight;
INSERT INTO highlight_reaction_v2 SELECT * FROM highlight_reaction;
"""


def test_drizzle_app_migrations_with_rows_are_silent(database: str, tmp_path: Path) -> None:
    """The deprecated `highlight_reaction` beside the live `highlight_reaction_v2` has the
    same columns but none of the same rows: different tables, no duplicate-table.  The
    migrator's history in drizzle.__drizzle_migrations is bookkeeping.  Once a backfill copies
    the old reactions into `highlight_reaction_v2`, the old table is its duplicate."""
    execute(database, DRIZZLE_SCHEMA + DRIZZLE_ROWS)
    text = assert_silent(database, tmp_path)
    document = yaml.safe_load(text)
    assert document["database"]["schemas"] == ["public", "drizzle"]
    assert "drizzle.__drizzle_migrations" in document["tables"]

    execute(database, DRIZZLE_BACKFILL)
    _, report = verify(database, tmp_path / "schema_lock.yaml", "--fail-on", "info")
    assert [(f["rule"], f["table"], f["expected"]) for f in report["findings"]] == [
        ("duplicate-table", "highlight_reaction", "public.highlight_reaction_v2")
    ], describe(report["findings"])


# -- the seed database after its repair -------------------------------------------------------

# What people decide once `fix` has repaired the structure (the demo's "data for people to
# decide"): the mock organization and its traces go, the two organizations only the legacy
# `orgs` table holds move into `organizations`, and `orgs` is retired.
SEED_DECISIONS = """
DELETE FROM billing_audit WHERE org_id = 'ca58dadd-77f5-4f7e-bec0-6ce1b26b039c';
DELETE FROM webhook_events WHERE payload ->> 'source' = 'mock';
DELETE FROM quota_usage WHERE org_id = 'ca58dadd-77f5-4f7e-bec0-6ce1b26b039c';
DELETE FROM organizations WHERE id = 'ca58dadd-77f5-4f7e-bec0-6ce1b26b039c';
INSERT INTO organizations (id, clerk_org_id, name, quota_used, quota_limit, plan, created_at)
SELECT o.id, o.clerk_org_id, o.name, 0, 100, o.plan, o.created_at FROM orgs o
WHERE NOT EXISTS (SELECT 1 FROM organizations x WHERE x.clerk_org_id = o.clerk_org_id);
DROP TABLE orgs;
"""


def test_the_seed_database_after_repair_is_silent(database: str, tmp_path: Path) -> None:
    """After `fix --orphans quarantine --apply`, a fresh snapshot verifies with only the data
    the story leaves for people (the mock rows, the legacy `orgs` and the rows only it holds):
    nothing about structure, integrity, identifiers or design.  Once people have decided,
    nothing at all."""
    from schemalock import db
    from schemalock.app.demo import LOCK_NAME, build_seed_database, seed_file
    from schemalock.fix.command import fix
    from schemalock.fix.plan import Orphans
    from schemalock.lock import load_lock

    build_seed_database(database)
    with seed_file(LOCK_NAME) as path:
        fix(
            load_lock(str(path)),
            database,
            tmp_path / "migrations",
            db.Timeouts(),
            orphans=Orphans.QUARANTINE,
            apply=True,
            log=False,
        )
    lock = tmp_path / "repaired.yaml"
    snapshot(database, lock)
    _, report = verify(database, lock, "--fail-on", "info")
    assert rules_of(report) == [
        ("duplicate-table", "orgs", None),
        ("mock-data", "billing_audit", "metadata"),
        ("mock-data", "organizations", "name"),
        ("mock-data", "webhook_events", "payload"),
    ], describe(report["findings"])

    execute(database, SEED_DECISIONS)
    text = assert_silent(database, tmp_path)
    tables = yaml.safe_load(text)["tables"]
    assert {"_migrations", "alembic_version", "schemalock_quarantine"} <= set(tables)


# -- rich_schema.sql --------------------------------------------------------------------------


def test_rich_schema_with_rows_is_silent(database: str, tmp_path: Path) -> None:
    from test_fix_convergence import DATA as RICH_ROWS

    execute(database, (DATA / "rich_schema.sql").read_text(encoding="utf-8") + RICH_ROWS)
    assert_silent(database, tmp_path)


# -- duplicate-table: related names and shared columns are not enough ---------------------------

LOOK_ALIKES = """
CREATE SCHEMA archive;
-- The live table and its deprecated predecessor: a version marks the newer one.
CREATE TABLE vote (chat_id uuid, message_id uuid, is_upvoted boolean, voted_at timestamptz,
                   PRIMARY KEY (chat_id, message_id));
CREATE TABLE vote_v2 (chat_id uuid, message_id uuid, is_upvoted boolean, voted_at timestamptz,
                      PRIMARY KEY (chat_id, message_id));
-- A rollup of the newest reading per sensor, beside the readings.
CREATE TABLE metrics (sensor text, reading numeric, unit text, measured_at timestamptz);
CREATE TABLE latest_metrics (sensor text PRIMARY KEY, reading numeric, unit text,
                             measured_at timestamptz);
-- An empty successor, created ahead of a migration.
CREATE TABLE accounts (id integer PRIMARY KEY, handle text UNIQUE, display_name text,
                       country text);
CREATE TABLE accounts2 (id integer PRIMARY KEY, handle text UNIQUE, display_name text,
                        country text);
-- One name in two schemas: this year's invoices and the archived ones.
CREATE TABLE invoices (number text PRIMARY KEY, customer text, total numeric, issued date);
CREATE TABLE archive.invoices (number text PRIMARY KEY, customer text, total numeric,
                               issued date);
-- A legacy-named table beside an empty canonical one.
CREATE TABLE customers (id integer, email text, full_name text, city text);
CREATE TABLE customers_old (id integer, email text, full_name text, city text);

INSERT INTO vote VALUES
    ('0b7e4f2a-9c1d-4a63-8e5b-3f6d2c9a1e84', 'a3f7d1b9-4c6e-4a82-b9d5-1e8c6a2f7b43', true,
     '2025-01-14 09:13:00+00');
INSERT INTO vote_v2 VALUES
    ('c41d8e6b-2a9f-4b07-9d3c-7e5a1f8b2c69', 'f2c9a7e4-1d6b-4b58-9e3a-8d5f2b7c1a96', true,
     '2025-04-02 18:41:00+00');
INSERT INTO metrics VALUES ('boiler-1', 71.5, 'C', '2025-03-01 10:00:00+00'),
    ('boiler-1', 72.0, 'C', '2025-03-01 10:05:00+00'),
    ('pump-2', 3.1, 'bar', '2025-03-01 10:05:00+00');
INSERT INTO latest_metrics VALUES ('boiler-1', 72.4, 'C', '2025-03-01 10:10:00+00'),
    ('pump-2', 3.0, 'bar', '2025-03-01 10:10:00+00');
INSERT INTO accounts VALUES (1, 'ines', 'Inês Duarte', 'PT'), (2, 'okafor', 'Chidi Okafor', 'NG');
INSERT INTO invoices VALUES ('INV-2025-0001', 'Northwind', 120.00, '2025-01-03');
INSERT INTO archive.invoices VALUES ('INV-2024-0412', 'Northwind', 95.50, '2024-11-28'),
    ('INV-2024-0413', 'Bluebird', 40.00, '2024-12-02');
INSERT INTO customers_old VALUES (1, 'ana@correio.pt', 'Ana', 'Braga'), (NULL, NULL, 'B', NULL);
"""


def test_look_alike_tables_without_shared_rows_are_no_duplicates(
    database: str, tmp_path: Path
) -> None:
    """Each pair here was reported before as a duplicate on its names and columns alone (the
    live `vote_v2` as the copy of the deprecated `vote`, the rollup as a copy of its readings,
    an empty table as a copy, this year's invoices as a copy of the archived ones, a legacy
    name beside an empty table): no rows shared, no duplicate."""
    execute(database, LOOK_ALIKES)
    assert_silent(database, tmp_path)


def test_shared_rows_make_the_duplicate_and_a_version_marks_the_newer_table(
    database: str, tmp_path: Path
) -> None:
    """The same pairs once rows are shared: each is reported, the copy the deprecated or
    older side (`vote` of `vote_v2`, never the other way round)."""
    execute(
        database,
        LOOK_ALIKES
        + """
        INSERT INTO vote_v2 SELECT * FROM vote;
        INSERT INTO vote VALUES ('0b7e4f2a-9c1d-4a63-8e5b-3f6d2c9a1e84',
            '6e2a9c4f-8b1d-4f37-a5e0-9c3b7d1f4a28', false, '2025-01-14 09:14:00+00');
        INSERT INTO accounts2 SELECT * FROM accounts WHERE id = 1;
        INSERT INTO latest_metrics VALUES ('boiler-1', 72.0, 'C', '2025-03-01 10:05:00+00')
            ON CONFLICT (sensor) DO UPDATE SET reading = excluded.reading,
            measured_at = excluded.measured_at;
        INSERT INTO archive.invoices SELECT * FROM invoices;
        INSERT INTO customers SELECT * FROM customers_old WHERE id = 1;
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    code, report = verify(database, lock, "--select", "duplicate-table")
    found = {(f["schema"], f["table"]): f for f in report["findings"]}
    assert {key: f["expected"] for key, f in found.items()} == {
        ("public", "vote"): "public.vote_v2",
        ("public", "accounts2"): "public.accounts",
        ("public", "latest_metrics"): "public.metrics",
        ("archive", "invoices"): "public.invoices",
        ("public", "customers_old"): "public.customers",
    }, describe(report["findings"])
    vote = found[("public", "vote")]
    assert vote["count"] == 1
    assert "1 of 2 rows also in public.vote_v2 (matched on chat_id, message_id)" in vote["message"]
    assert found[("public", "accounts2")]["count"] == 0
    assert found[("public", "customers_old")]["count"] == 1
    assert code == 0  # warnings


def test_a_declared_duplicate_is_reported_while_its_legacy_table_holds_rows(
    database: str, tmp_path: Path
) -> None:
    """The lock's `duplicate_of:` is evidence enough: its rows are reported even when none is
    in the canonical table; once the legacy table is empty, it duplicates nothing."""
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE, name text);
        CREATE TABLE orgs (id uuid, clerk_org_id text, name text);
        INSERT INTO organizations (clerk_org_id, name) VALUES ('org_2aQ7', 'Northwind');
        INSERT INTO orgs VALUES (gen_random_uuid(), 'org_2cZ1', 'Lumen Freight');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock).replace(
        "  orgs:\n", "  orgs:\n    duplicate_of: organizations\n"
    )
    lock.write_text(text, encoding="utf-8")
    _, report = verify(database, lock, "--select", "duplicate-table")
    [finding] = report["findings"]
    assert "(declared)" in finding["message"]
    assert finding["count"] == 1
    execute(database, "DELETE FROM orgs")
    code, report = verify(database, lock, "--fail-on", "info")
    assert (code, report["findings"]) == (0, []), describe(report["findings"])


# -- recall: what real schemas showed missing -------------------------------------------------


def test_mock_teams_companies_and_lorem_ipsum_in_json_are_found(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE workspaces (id integer PRIMARY KEY, name text, settings json, profile jsonb);
        INSERT INTO workspaces VALUES
            (1, 'Mock Team', '{"welcome": "Lorem ipsum dolor sit amet"}', '{}'),
            (2, 'Test Company', '{}', '{"bio": "lorem ipsum, consectetur adipiscing"}'),
            (3, 'Acme Test Workspace', NULL, NULL),
            (4, 'Test Tenant', NULL, NULL),
            (5, 'Mock Project', NULL, NULL),
            -- Real names: a team, a company, lorem as a word of its own.
            (6, 'Platform Team', '{"welcome": "Hello team"}', '{"bio": "Lorem Ltd, Leeds"}'),
            (7, 'Test Automation Guild', NULL, NULL);
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    code, report = verify(database, lock, "--select", "mock-data")
    counts = {f["column"]: (f["count"], f["actual"]) for f in report["findings"]}
    assert counts == {
        "name": (5, ["mock-word"]),
        "settings": (1, ["json-lorem"]),
        "profile": (1, ["json-lorem"]),
    }, describe(report["findings"])
    assert code == 1


def test_a_bigint_reference_to_an_integer_key_is_a_type_mismatch(
    database: str, tmp_path: Path
) -> None:
    """The foreign key holds across integer widths, but values beyond the parent's range can
    never match (a warning, in the lock and in the database); a lock fix can still plan."""
    execute(
        database,
        """
        CREATE TABLE plans (id integer PRIMARY KEY, name text);
        CREATE TABLE subscriptions (id bigint PRIMARY KEY, plan_id bigint REFERENCES plans (id));
        CREATE TABLE seats (id integer PRIMARY KEY, subscription_id integer
                            REFERENCES subscriptions (id));
        CREATE INDEX ON subscriptions (plan_id);
        CREATE INDEX ON seats (subscription_id);
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    code, report = verify(database, lock, "--select", "fk-type-mismatch")
    found = sorted(
        (f["table"], f["severity"], f["actual"], f["expected"]) for f in report["findings"]
    )
    assert found == [
        ("seats", "warning", "integer", "bigint"),
        ("seats", "warning", "integer", "bigint"),
        ("subscriptions", "warning", "bigint", "integer"),
        ("subscriptions", "warning", "bigint", "integer"),
    ], describe(report["findings"])
    messages = " ".join(f["message"] for f in report["findings"])
    assert "values beyond the integer range can never match a parent row" in messages
    assert "parent keys beyond the integer range cannot be referenced" in messages
    assert code == 0
    linted = run_cli("lint", "--lock", str(lock), "--select", "fk-type-mismatch")
    assert linted.exit_code == 0, linted.stdout


def test_a_legacy_table_named_by_spelling_case_or_abbreviation_is_found(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE "Organisation" (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE, name text, plan text, quota_used integer);
        CREATE TABLE orgs (id uuid, clerk_org_id text, name text, plan text);
        CREATE TABLE organizations (id uuid, clerk_org_id text, name text, plan text);
        INSERT INTO "Organisation" (clerk_org_id, name, plan) VALUES
            ('org_2aQ7', 'Northwind Analytics', 'pro'), ('org_2bK9', 'Kestrel Labs', 'free');
        INSERT INTO orgs VALUES (gen_random_uuid(), 'org_2aQ7', 'Northwind Analytics', 'pro'),
            (gen_random_uuid(), 'org_2cZ1', 'Lumen Freight', 'pro');
        INSERT INTO organizations VALUES
            (gen_random_uuid(), 'org_2bK9', 'Kestrel Labs', 'free'),
            (gen_random_uuid(), 'org_2dP4', 'Oakridge Dental Group', 'pro');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    _, report = verify(database, lock, "--select", "duplicate-table")
    found = {f["table"]: (f["expected"], f["count"]) for f in report["findings"]}
    assert found == {
        "orgs": ('public."Organisation"', 1),
        "organizations": ('public."Organisation"', 1),
    }, describe(report["findings"])


# -- a snapshot records what it saw -----------------------------------------------------------


def test_not_valid_keys_and_keys_into_partitions_verify_silent(
    database: str, tmp_path: Path
) -> None:
    """A foreign key and a check left NOT VALID are written `validated: false`; a foreign key
    into one partition names its partitioned table and the partition, so the lock is valid
    (no dangling reference) and verifies silent.  Dropped, the key is missing, and `fix`
    plans it into the partition again."""
    execute(
        database,
        """
        CREATE TABLE accounts (id integer PRIMARY KEY);
        CREATE TABLE ledger (id integer PRIMARY KEY, account_id integer, amount integer);
        CREATE INDEX ON ledger (account_id);
        INSERT INTO accounts VALUES (1), (2);
        INSERT INTO ledger VALUES (1, 1, 10), (2, 2, 5);
        ALTER TABLE ledger ADD CONSTRAINT ledger_account_fk FOREIGN KEY (account_id)
            REFERENCES accounts (id) NOT VALID;
        ALTER TABLE ledger ADD CONSTRAINT ledger_amount_positive CHECK (amount > 0) NOT VALID;
        CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at))
            PARTITION BY RANGE (at);
        CREATE TABLE events_2025 PARTITION OF events
            FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE events_2026 PARTITION OF events
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE notes (id integer PRIMARY KEY, event_id bigint, at date, body text);
        CREATE INDEX ON notes (event_id, at);
        ALTER TABLE notes ADD CONSTRAINT notes_event_fk FOREIGN KEY (event_id, at)
            REFERENCES events_2025 (id, at);
        INSERT INTO events VALUES (1, '2025-05-01'), (2, '2026-02-01');
        INSERT INTO notes VALUES (1, 1, '2025-05-01', 'Checked by the night shift');
        """,
    )
    text = assert_silent(database, tmp_path)
    tables = yaml.safe_load(text)["tables"]
    assert tables["ledger"]["foreign_keys"]["ledger_account_fk"]["validated"] is False
    assert tables["ledger"]["checks"]["ledger_amount_positive"]["validated"] is False
    assert tables["notes"]["foreign_keys"]["notes_event_fk"]["references"] == {
        "table": "events",
        "columns": ["id", "at"],
        "partition": "events_2025",
    }
    assert "events_2025" not in tables

    execute(database, "ALTER TABLE notes DROP CONSTRAINT notes_event_fk")
    lock = tmp_path / "schema_lock.yaml"
    _, report = verify(database, lock)
    [missing] = report["findings"]
    assert missing["rule"] == "missing-foreign-key"
    assert "(partition public.events_2025)" in missing["message"]
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", database,
        "--migrations", str(tmp_path / "migrations"), "--apply",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    (tmp_path / "again").mkdir()
    assert_silent(database, tmp_path / "again")
    ((_, partition),) = query(
        database,
        "SELECT conname, confrelid::regclass::text FROM pg_constraint"
        " WHERE conrelid = 'notes'::regclass AND contype = 'f'",
    )
    assert partition == "events_2025"


def test_bookkeeping_tables_are_never_judged_as_data(database: str, tmp_path: Path) -> None:
    """Every migration tool's table, with the rows its tool writes (uuids in text, hashes):
    no uuid-stored-as-text, no undashed-uuid-as-text, no mock-data, no duplicate-table between
    two tools' look-alike histories; the same rows in a table of the application are judged."""
    execute(
        database,
        """
        CREATE SCHEMA drizzle;
        CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
        CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY, dirty boolean);
        CREATE TABLE flyway_schema_history (installed_rank integer PRIMARY KEY,
            version varchar(50), description varchar(200), type varchar(20),
            script varchar(1000), checksum integer, installed_by varchar(100),
            installed_on timestamp DEFAULT now(), execution_time integer, success boolean);
        CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer,
            migration_time timestamptz);
        CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer);
        CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL,
            created_at bigint);
        CREATE TABLE _migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint);
        CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64),
            migration_name varchar(255));
        CREATE TABLE app_events (id varchar(36) PRIMARY KEY, checksum varchar(64),
            name varchar(255));
        INSERT INTO alembic_version VALUES ('3f2a9c1d7e4b8a6c5d0e1f2a3b4c5d6e');
        INSERT INTO schema_migrations VALUES ('20250301120000', false);
        INSERT INTO flyway_schema_history VALUES (1, '1', 'mock data for tests', 'SQL',
            'V1__mock_data_for_tests.sql', 1234, 'test user', '2025-03-01 12:00:00', 12, true);
        INSERT INTO knex_migrations (name, batch, migration_time) VALUES
            ('20250301_test_users.js', 1, '2025-03-01 12:00:00+00');
        INSERT INTO knex_migrations_lock (is_locked) VALUES (0);
        INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES
            ('8db845d150aa6ecd940f169e2b729a54fd51aabcfc90552f083e1652db25ae8a', 1728414763517);
        INSERT INTO _migrations (hash, created_at) VALUES
            ('8db845d150aa6ecd940f169e2b729a54fd51aabcfc90552f083e1652db25ae8a', 1728414763517);
        INSERT INTO _prisma_migrations VALUES
            ('8d1f5b62-3c47-4e0a-9f2b-6a1c7e5d9b03', 'c1f0a4e7', '20240917083522_init');
        INSERT INTO app_events VALUES
            ('8d1f5b62-3c47-4e0a-9f2b-6a1c7e5d9b03', 'c1f0a4e7', 'signup');
        -- The id is a uuid key of this database too: evidence, for an application's table.
        CREATE TABLE signups (id uuid PRIMARY KEY);
        INSERT INTO signups VALUES ('8d1f5b62-3c47-4e0a-9f2b-6a1c7e5d9b03');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    _, report = verify(database, lock, "--fail-on", "info")
    assert rules_of(report) == [("uuid-stored-as-text", "app_events", "id")], describe(
        report["findings"]
    )


# -- ordinary application data: hashes, correlation ids, a QA team ------------------------------

APP_DATA = """
CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE);
INSERT INTO customers (email) SELECT 'customer' || g || '@correio.pt'
    FROM generate_series(1, 12) g;
CREATE TABLE api_tokens (id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id), token_hash text NOT NULL,
    key_digest text NOT NULL, session_key text NOT NULL);
CREATE INDEX ON api_tokens (customer_id);
-- md5 hex digests; and a digest column whose values happen to look like version 4 uuids.
INSERT INTO api_tokens (customer_id, token_hash, key_digest, session_key)
    SELECT id, md5(email), replace(gen_random_uuid()::text, '-', ''), md5('s' || email)
    FROM customers;
CREATE TABLE request_log (id bigserial PRIMARY KEY, request_id text NOT NULL,
    trace_id varchar(36), path text NOT NULL);
INSERT INTO request_log (request_id, trace_id, path)
    SELECT gen_random_uuid()::text, gen_random_uuid()::text, '/api/x'
    FROM generate_series(1, 20);
CREATE TABLE teams (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO teams (name) VALUES ('Platform Team'), ('QA Test Team'), ('Data Team'),
    ('Load Test Team'), ('Test Automation Team');
"""


def test_hashes_correlation_ids_and_a_qa_team_are_ordinary_data(
    database: str, tmp_path: Path
) -> None:
    """Each of these fired before: undashed-uuid-as-text on md5 digests (a `*_hash` column),
    uuid-stored-as-text on a request id no uuid key holds, mock-data on the real team "QA Test
    Team".  A 32-hex digest is no uuid without a uuid's version and variant digits and an id's
    name; a text column of uuids that references no uuid key is an external or correlation id;
    "test" after the kind of testing names a discipline, not a test record."""
    execute(database, APP_DATA)
    assert_silent(database, tmp_path)


def test_uuids_as_text_are_still_found_where_the_evidence_is(database: str, tmp_path: Path) -> None:
    """The same rules' recall: a reference named after a uuid-keyed table (orphans and all),
    a column whose values are another table's uuid keys, a uuid column's name stored as text
    elsewhere, a text primary key of uuids; undashed version-4 uuids in an
    id column; a team that is only "Test Team"."""
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text);
        CREATE TABLE sessions (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
        INSERT INTO organizations (name) SELECT 'Org ' || g FROM generate_series(1, 10) g;
        INSERT INTO sessions SELECT FROM generate_series(1, 10);
        CREATE TABLE jobs (id text PRIMARY KEY, org_id text, opened_by text,
            external_id text, event_id text, name text);
        INSERT INTO jobs SELECT gen_random_uuid()::text, o.id::text, s.id::text,
                gen_random_uuid()::text,
                replace(gen_random_uuid()::text, '-', ''), 'Job ' || o.name
            FROM (SELECT id, name, row_number() OVER (ORDER BY id) n FROM organizations) o
            JOIN (SELECT id, row_number() OVER (ORDER BY id) n FROM sessions) s USING (n);
        UPDATE jobs SET org_id = gen_random_uuid()::text WHERE name = 'Job Org 1';
        CREATE TABLE audit (id serial PRIMARY KEY, external_id uuid);
        CREATE TABLE teams (id serial PRIMARY KEY, name text NOT NULL);
        INSERT INTO teams (name) VALUES ('Test Team'), ('Platform Team');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    _, report = verify(database, lock, "--fail-on", "info")
    assert rules_of(report) == [
        ("mock-data", "teams", "name"),
        ("undashed-uuid-as-text", "jobs", "event_id"),
        ("uuid-stored-as-text", "jobs", "external_id"),
        ("uuid-stored-as-text", "jobs", "id"),
        ("uuid-stored-as-text", "jobs", "opened_by"),
        ("uuid-stored-as-text", "jobs", "org_id"),
    ], describe(report["findings"])
    found = {f["column"]: f["message"] for f in report["findings"]}
    assert "every one matches public.sessions.id" in found["opened_by"]
    assert "matches" not in found["org_id"]  # one orphan: named, not matched


def test_an_orm_s_text_uuid_keys_and_their_references_are_a_design(
    database: str, tmp_path: Path
) -> None:
    """Prisma's `String @id @default(uuid())`: every key a text column of UUIDs, every
    reference text to it.  No uuid column anywhere: nothing is mistyped, so nothing to say."""
    execute(
        database,
        """
        CREATE TABLE "User" (id text PRIMARY KEY, email text NOT NULL UNIQUE);
        CREATE TABLE "Post" (
            id text PRIMARY KEY,
            "authorId" text NOT NULL REFERENCES "User" (id) ON UPDATE CASCADE,
            title text NOT NULL
        );
        INSERT INTO "User" VALUES
            ('6f1c2a34-8e0b-4f57-9a3d-2b7c1e5d9f40', 'maria.lopez@fastmail.com'),
            ('0b9d7e21-3c4a-4d8e-b1f2-7a6c5e4d3b21', 'kenji.sato@proton.me');
        INSERT INTO "Post" VALUES
            ('c2e4a6b8-1d3f-4a5c-8e7a-9b0c1d2e3f40', '6f1c2a34-8e0b-4f57-9a3d-2b7c1e5d9f40',
             'Notes on query planning'),
            ('d3f5b7c9-2e4a-4b6d-9f8b-0c1d2e3f4a51', '0b9d7e21-3c4a-4d8e-b1f2-7a6c5e4d3b21',
             'A week of pgbench');
        """,
    )
    assert_silent(database, tmp_path)
