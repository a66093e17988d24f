"""The CLI as an operator runs it."""

from __future__ import annotations

from pathlib import Path

from commands.customers import RegisterContact
from domain.item_numbers import item_id
from ledgerdesk import bootstrap
from ledgerdesk.settings import Settings
from projections.base import current_tables
from projections.registry import all_projections
from tests.e2e.conftest import Run
from tests.factories import SYSTEM, open_ticket, repair_stored_event, unprojectable_rename


def test_init_prints_a_working_token_only_the_first_time(ledgerdesk: Run) -> None:
    first = ledgerdesk("init", "--admin-email", "admin@example.com")
    token = first.stdout.strip().splitlines()[-1]
    assert token.startswith("ld_")
    second = ledgerdesk("init", "--admin-email", "admin@example.com")
    assert "ld_" not in second.stdout
    assert "exists" in second.stdout


def test_users_and_tokens_are_created_and_bad_input_is_a_clear_error(ledgerdesk: Run) -> None:
    ledgerdesk("migrate")
    created = ledgerdesk("users", "create", "--email", "Grace@Example.com", "--name", "Grace")
    assert "grace@example.com" in created.stdout
    assert ledgerdesk("tokens", "create", "--email", "grace@example.com").stdout.startswith("ld_")
    duplicate = ledgerdesk(
        "users", "create", "--email", "grace@example.com", "--name", "G", check=False
    )
    assert duplicate.returncode == 2
    assert "already exists" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    unknown = ledgerdesk("tokens", "create", "--email", "nobody@example.com", check=False)
    assert unknown.returncode == 2
    assert "no user nobody@example.com" in unknown.stderr
    bad = ledgerdesk("users", "create", "--email", "not-an-email", "--name", "x", check=False)
    assert bad.returncode == 2
    assert "not an email address" in bad.stderr
    control = ledgerdesk(
        "users", "create", "--email", "x@example.com", "--name", "a\x1bb", check=False
    )
    assert control.returncode == 2
    assert "name contains the disallowed character U+001B at index 1" in control.stderr


def test_projections_status_rebuild_and_replay_verify(ledgerdesk: Run, settings: Settings) -> None:
    ledgerdesk("init", "--admin-email", "admin@example.com")
    status = ledgerdesk("projections", "status")
    assert {"flat", "ticket_detail", "item_history"} <= {
        line.split()[0] for line in status.stdout.splitlines()[1:]
    }
    rebuilt = ledgerdesk("projections", "rebuild", "flat")
    assert "flat: rebuilt as generation 2" in rebuilt.stdout
    assert ledgerdesk("projections", "status", "flat").stdout.split()[-4] == "2"
    # No runner has followed the log since `init` wrote to it: the audit says so
    behind = ledgerdesk("replay", "--verify", check=False)
    assert behind.returncode == 1
    assert "users: BEHIND: at position 0 of the log's" in behind.stdout
    assert "flat: OK" in behind.stdout  # Just rebuilt up to the head.
    c = bootstrap.build(settings)
    try:
        c.runner.catch_up()
    finally:
        c.close()
    verified = ledgerdesk("replay", "--verify")
    assert verified.stdout.count(": OK") == len(all_projections())
    unknown = ledgerdesk("projections", "rebuild", "nope", check=False)
    assert unknown.returncode == 2
    assert "no view 'nope'" in unknown.stderr


def test_replay_verify_exits_1_when_a_live_view_differs_from_the_log(
    ledgerdesk: Run, settings: Settings
) -> None:
    ledgerdesk("migrate")
    c = bootstrap.build(settings)
    try:
        open_ticket(c, title="Genuine")
        c.runner.catch_up()
        with c.views.write() as tx:
            table = current_tables(tx, "flat")["flat_items"]
            tx.execute(f"UPDATE {table} SET title = 'Forged'")
    finally:
        c.close()
    audit = ledgerdesk("replay", "--verify", check=False)
    assert audit.returncode == 1
    assert "flat: 1 difference(s)" in audit.stdout
    assert "Forged" in audit.stdout


def test_tokens_can_be_limited_in_scope_and_time(ledgerdesk: Run, settings: Settings) -> None:
    ledgerdesk("init", "--admin-email", "admin@example.com")
    token = ledgerdesk(
        "tokens",
        "create",
        "--email",
        "admin@example.com",
        "--scopes",
        "read",
        "--expires-in-days",
        "1",
    ).stdout.strip()
    c = bootstrap.build(settings)
    try:
        caller = c.accounts.authenticate(token)
    finally:
        c.close()
    assert caller.scopes == {"read"}
    assert caller.user.tokens[caller.token_id]["expires_at"] is not None
    bad = ledgerdesk(
        "tokens", "create", "--email", "admin@example.com", "--scopes", "root", check=False
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr


def test_a_view_stuck_on_an_event_shows_in_status_fails_the_audit_and_its_rebuild(
    ledgerdesk: Run, settings: Settings
) -> None:
    # Given views that followed an event `customers` cannot apply (and a ticket after it)
    ledgerdesk("migrate")
    c = bootstrap.build(settings)
    try:
        ada = c.customers.register_contact(
            RegisterContact(email="ada@acme.example", name="Ada"), SYSTEM
        ).id
        before = c.app.head()
        unprojectable_rename(c, ada)
        version = c.app.repository.get(ada).version
        open_ticket(c, title="After")
        assert c.runner.follow(list(c.runner.projections)) is False
        head = c.app.head()
    finally:
        c.close()

    # Then status marks it, with where it is stuck and why, and exits 1 for a monitor to see
    done = ledgerdesk("projections", "status", check=False)
    assert done.returncode == 1, done.stderr
    status = done.stdout.splitlines()
    (row,) = [line for line in status if line.startswith("customers ")]
    assert row.endswith("FAILED")
    assert row.split()[2] == str(before)
    (why,) = [line for line in status if line.startswith("  customers: ")]
    assert f"FAILED: stuck at position {before} (generation 1), 1 attempt(s)" in why
    assert "dict" in why
    assert next(line for line in status if line.startswith("flat ")).split()[2] == str(head)

    # And the audit fails loudly, one line for the view, though its rows match the log so far
    audit = ledgerdesk("replay", "--verify", check=False)
    assert audit.returncode == 1
    (line,) = [x for x in audit.stdout.splitlines() if x.startswith("customers: ")]
    assert line.startswith(f"customers: FAILED: stuck at position {before}")
    assert "flat: OK" in audit.stdout

    # And a rebuild stops at the event with a clear error, not a traceback or a hang
    rebuild = ledgerdesk("projections", "rebuild", "customers", check=False)
    assert rebuild.returncode == 2
    assert rebuild.stderr.startswith(
        f"ledgerdesk: error: view 'customers' cannot apply the events after position {before}:"
    )
    assert "Traceback" not in rebuild.stderr

    # When the event is repaired and a runner follows the log again
    repair_stored_event(settings, ada, version, name="Ada Lovelace")
    c = bootstrap.build(settings)
    try:
        assert c.runner.follow(list(c.runner.projections)) is True
    finally:
        c.close()

    # Then the view is healthy, and the audit passes
    assert "FAILED" not in ledgerdesk("projections", "status").stdout
    assert ledgerdesk("replay", "--verify").stdout.count(": OK") == len(all_projections())


def test_import_items_checks_every_row_then_imports_once(
    ledgerdesk: Run, settings: Settings, tmp_path: Path
) -> None:
    ledgerdesk("init", "--admin-email", "admin@example.com")
    good = tmp_path / "old-desk.csv"
    good.write_bytes(
        b"\xef\xbb\xbfID;Subject;Type;Owner\r\n"
        b"7;Printer jams;ticket;admin@example.com\r\n"
        b"8;Order toner;task;\r\n"
    )
    mapping = ["--map", "ID=external_id", "--map", "Subject=title", "--map", "Type=kind"]
    mapping += ["--map", "Owner=assignees"]
    dry = ledgerdesk("import", "items", str(good), *mapping, "--dry-run")
    assert "dry run: 2 row(s) would import 1 ticket(s) and 1 task(s)" in dry.stdout
    done = ledgerdesk("import", "items", str(good), *mapping, "--as", "admin@example.com")
    assert "imported 1 ticket(s) and 1 task(s) from 2 row(s); 0 imported before" in done.stdout
    assert "checking: 2rows" in done.stderr  # the progress bars
    assert "writing: 100%" in done.stderr
    assert "2/2" in done.stderr
    again = ledgerdesk("import", "items", str(good), *mapping, "--as", "admin@example.com")
    assert "imported 0 ticket(s) and 0 task(s) from 2 row(s); 2 imported before" in again.stdout
    c = bootstrap.build(settings)
    try:
        ticket = c.app.repository.get(item_id(1))
        assert (ticket.title, ticket.created_by.split(":")[0]) == ("Printer jams", "import")
        assert len(ticket.assignees) == 1
    finally:
        c.close()

    bad = tmp_path / "bad.csv"
    bad.write_text("title,kind,priority\nFine,ticket,\n,task,\nOdd,ticket,huge\n")
    refused = ledgerdesk("import", "items", str(bad), check=False)
    assert refused.returncode == 2
    assert "row 3, title: a title" in refused.stderr
    assert "row 4, priority: one of low, normal, high, urgent" in refused.stderr
    assert "nothing was imported" in refused.stderr
    assert "Traceback" not in refused.stderr
    missing = ledgerdesk("import", "items", str(tmp_path / "none.csv"), check=False)
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr
    wrong = ledgerdesk("import", "items", str(good), "--map", "ID", check=False)
    assert "--map takes FILE_HEADER=column" in wrong.stderr


def test_import_msproject_imports_a_plan_into_a_new_project_once(
    ledgerdesk: Run, settings: Settings, tmp_path: Path
) -> None:
    ledgerdesk("init", "--admin-email", "admin@example.com")
    plan = tmp_path / "links.xml"
    plan.write_bytes(
        (Path(__file__).parents[1] / "data/msproject/task-links-project2003-mspdi.xml").read_bytes()
    )
    dry = ledgerdesk("import", "msproject", str(plan), "--project", "Links", "--dry-run")
    assert "dry run: would import 16 task(s) (0 subtask(s)), 0 folder(s), 8 link(s)" in dry.stdout
    assert "into new project 'Links'" in dry.stdout
    done = ledgerdesk(
        "import", "msproject", str(plan), "--project", "Links", "--as", "admin@example.com"
    )
    assert "imported 16 task(s) (0 subtask(s)), 0 folder(s), 8 link(s)" in done.stdout
    assert "writing: 100%" in done.stderr
    assert "16/16" in done.stderr
    assert "into new project 'Links'" in done.stdout
    again = ledgerdesk(
        "import", "msproject", str(plan), "--project", "Links", "--as", "admin@example.com"
    )
    assert "imported 0 task(s)" in again.stdout
    assert "16 imported before" in again.stdout
    assert "into project 'Links'" in again.stdout
    c = bootstrap.build(settings)
    try:
        task = c.app.repository.get(item_id(1))
        assert task.created_by.split(":")[0] == "import"
        assert task.start is not None
    finally:
        c.close()

    bad = tmp_path / "bad.xml"
    bad.write_text("<Workbook/>")
    refused = ledgerdesk("import", "msproject", str(bad), "--project", "Links", check=False)
    assert refused.returncode == 2
    assert "Project" in refused.stderr
    assert "Traceback" not in refused.stderr
    nested = ledgerdesk("import", "msproject", str(plan), "--project", "Nobody/Here", check=False)
    assert nested.returncode == 2
    assert "no project 'Nobody/Here'" in nested.stderr
