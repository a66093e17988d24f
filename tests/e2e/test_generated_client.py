"""A client generated from the served OpenAPI document (openapi-python-client), unmodified,
runs a scenario against a real server: create, read, patch with If-Match, a stale If-Match
parsed as a Problem, a conversion, and the 308 under the old ticket number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SCENARIO = """
import sys

from ledgerdesk_client import AuthenticatedClient
from ledgerdesk_client.api.tasks import convert_ticket, read_task
from ledgerdesk_client.api.tickets import change_ticket, list_tickets, open_ticket, read_ticket
from ledgerdesk_client.models import Problem, TaskOut, TicketCreate, TicketOut, TicketPatch

base, token = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base, token=token)

created = open_ticket.sync_detailed(client=client, body=TicketCreate(title="Printer jammed"))
assert created.status_code == 201, created.content
ticket = created.parsed
assert isinstance(ticket, TicketOut), ticket
assert created.headers["Location"] == f"/api/v1/tickets/{ticket.number}"
first_etag = created.headers["ETag"]

read = read_ticket.sync(number=ticket.number, client=client)
assert isinstance(read, TicketOut), read
assert read.title == "Printer jammed"

listed = list_tickets.sync(client=client)
assert [item.number for item in listed.items] == [ticket.number], listed

fix = TicketPatch(title="Printer fixed")
patched = change_ticket.sync_detailed(
    number=ticket.number, client=client, body=fix, if_match=first_etag
)
assert patched.status_code == 200, patched.content
assert isinstance(patched.parsed, TicketOut)
assert patched.parsed.title == "Printer fixed"

stale = change_ticket.sync_detailed(
    number=ticket.number, client=client, body=TicketPatch(title="Lost"), if_match=first_etag
)
assert stale.status_code == 412, stale.content
assert isinstance(stale.parsed, Problem), stale.parsed
assert stale.parsed.type_ == "/problems/stale-version"
assert stale.parsed.status == 412

converted = convert_ticket.sync_detailed(number=ticket.number, client=client)
assert converted.status_code == 201, converted.content
task = converted.parsed
assert isinstance(task, TaskOut), task

moved = read_ticket.sync_detailed(number=ticket.number, client=client)
assert moved.status_code == 308, moved.content
assert isinstance(moved.parsed, Problem), moved.parsed
assert moved.headers["Location"] == f"/api/v1/tasks/{task.number}"
assert read_task.sync(number=task.number, client=client).title == "Printer fixed"
print("scenario passed")
"""


def generate(base: str, into: Path) -> Path:
    """The client package generated from the server's own document."""
    document = into / "openapi.json"
    document.write_bytes(httpx.get(f"{base}/openapi.json").content)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            *(str(bin_dir / "openapi-python-client"), "generate", "--path", str(document)),
            *("--output-path", str(into / "ledgerdesk_client"), "--meta", "none"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return into


@pytest.mark.slow
def test_a_generated_client_runs_the_scenario_unmodified(
    server: tuple[str, str], tmp_path: Path
) -> None:
    base, token = server
    package_dir = generate(base, tmp_path)
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    done = subprocess.run(
        [sys.executable, str(script), base, token],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(package_dir)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenario passed" in done.stdout
