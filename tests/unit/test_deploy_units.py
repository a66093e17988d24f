"""The systemd units in deploy/ run commands the CLI takes, with settings it knows."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from ledgerdesk import cli
from ledgerdesk.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = sorted(DEPLOY.glob("*.service"))


def test_there_is_a_unit_for_each_process_role() -> None:
    assert {u.name for u in UNITS} == {
        "ledgerdesk-migrate.service",
        "ledgerdesk-api@.service",
        "ledgerdesk-worker@.service",
        "ledgerdesk-runner.service",
        "ledgerdesk-mail.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_each_unit_runs_a_command_the_cli_takes(unit: Path) -> None:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read(unit)
    command = shlex.split(parsed["Service"]["ExecStart"].replace("%i", "8000"))
    assert command[0] == "/opt/ledgerdesk/.venv/bin/ledgerdesk"
    args = cli.parser().parse_args(command[1:])
    assert callable(args.func)
    assert parsed["Service"]["EnvironmentFile"] == "/etc/ledgerdesk/ledgerdesk.env"


def test_the_example_environment_names_only_settings_and_is_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = (DEPLOY / "ledgerdesk.env.example").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    known = {f"LEDGERDESK_{name.upper()}" for name in Settings.model_fields}
    assert set(values) <= known
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.blob_store == "postgres"
    assert settings.log_format == "json"
