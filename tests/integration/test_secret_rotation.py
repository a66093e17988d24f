"""Rotating the key that seals stored credentials, on both backends: with a new key first
in LEDGERDESK_ENCRYPTION_KEYS, what the old key sealed still opens; `secrets rotate` seals
every credential again under the new key (an event each); then the old key is not needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from commands.credentials import Credentials
from commands.secrets import SecretRotation
from commands.webhooks.subscriptions import SubscriptionService
from domain.mail.mailbox import Mailbox
from domain.mail.settings import MAIL_SETTINGS_ID, MailSettings
from domain.webhooks.subscriptions import Webhook
from ledgerdesk import bootstrap, cli
from ledgerdesk.settings import Settings
from tests.factories import SYSTEM, admin_token

PASSWORD, IMAP_PASSWORD = "smtp-pass-1", "imap-pass-2"


def stored_tokens(c: bootstrap.Container, mailbox: str, webhook: str) -> list[str]:
    settings: Any = c.app.repository.get(MAIL_SETTINGS_ID)
    assert isinstance(settings, MailSettings)
    box: Any = c.app.repository.get(UUID(mailbox))
    hook: Any = c.app.repository.get(UUID(webhook))
    assert isinstance(box, Mailbox)
    assert isinstance(hook, Webhook)
    return [settings.values["smtp"]["password_token"], box.imap_password_token, hook.sealed_secret]


def built(settings: Settings) -> bootstrap.Container:
    bootstrap.migrate(settings)
    return bootstrap.build(settings)


def test_a_new_key_opens_the_old_seals_and_rotation_needs_the_old_key_no_more(
    settings: Settings,
) -> None:
    # Given credentials sealed under the key derived from the secret key
    first = built(settings.model_copy(update={"secret_key": SecretStr("old-secret")}))
    try:
        with TestClient(first.http_app()) as http:
            http.headers["Authorization"] = f"Bearer {admin_token(first)}"
            smtp = {"host": "smtp.example.com", "port": 587, "user": "desk", "password": PASSWORD}
            assert http.put("/api/v1/mail/settings", json={"smtp": smtp}).status_code == 200
            project = http.post("/api/v1/projects", json={"name": "Sales"}).json()["id"]
            imap = {"host": "imap.example.com", "user": "sales", "password": IMAP_PASSWORD}
            box = http.post(
                "/api/v1/mail/mailboxes",
                json={"address": "sales@example.com", "project_id": project, "imap": imap},
            )
            assert box.status_code == 201, box.text
            hook = http.post(
                "/api/v1/webhooks",
                json={"url": "https://93.184.216.34/in", "events": ["item.created"]},
            ).json()
        ids = (box.json()["id"], hook["id"])
    finally:
        first.close()
    # When a new key is put first
    new_key = Fernet.generate_key().decode()
    rotating = built(
        settings.model_copy(
            update={"secret_key": SecretStr("old-secret"), "encryption_keys": SecretStr(new_key)}
        )
    )
    try:
        # Then what the old key sealed still opens
        assert rotating.mail_out.server().password == PASSWORD  # type: ignore[union-attr]
        before = stored_tokens(rotating, *ids)
        # And `secrets rotate` seals each again, under the new key alone
        done = SecretRotation(rotating.app, rotating.mail.credentials).rotate(SYSTEM)
        assert (done.smtp, done.mailboxes, done.webhooks) == (1, 1, 1)
        after = stored_tokens(rotating, *ids)
        assert all(a != b for a, b in zip(after, before, strict=True))
        opened = [Fernet(new_key.encode()).decrypt(t.encode()).decode() for t in after]
        assert opened[:2] == [PASSWORD, IMAP_PASSWORD]
        assert opened[2] == hook["secret"]
    finally:
        rotating.close()
    # And with the old secret key gone, the new key alone opens them
    later = built(
        settings.model_copy(
            update={"secret_key": SecretStr("new-secret"), "encryption_keys": SecretStr(new_key)}
        )
    )
    try:
        assert later.mail_out.server().password == PASSWORD  # type: ignore[union-attr]
        assert (
            later.webhooks.secret(later.webhooks.get(UUID(hook["id"]), "webhook")) == hook["secret"]
        )
    finally:
        later.close()


def test_the_command_rotates_and_refuses_without_a_new_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEDGERDESK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("LEDGERDESK_DATABASE_URL", raising=False)
    monkeypatch.delenv("LEDGERDESK_ENCRYPTION_KEYS", raising=False)
    assert cli.main(["migrate"]) == 0
    assert cli.main(["secrets", "rotate"]) == 2
    assert "LEDGERDESK_ENCRYPTION_KEYS" in capsys.readouterr().err
    monkeypatch.setenv("LEDGERDESK_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    assert cli.main(["secrets", "rotate"]) == 0
    assert "webhooks and hooks 0" in capsys.readouterr().out


def test_a_key_that_is_not_a_fernet_key_is_refused_naming_it() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="key 2 is not a Fernet key"):
        Settings(encryption_keys=f"{good},not-a-key")


def test_a_credential_no_key_opens_is_named_and_the_others_still_rotate(
    container: bootstrap.Container,
) -> None:
    c = container
    # Given one webhook whose secret was sealed under a key the install no longer has
    foreign = SubscriptionService(c.app, Credentials(b"a key long gone"), c.webhooks.guard)
    lost, _, _ = foreign.subscribe(
        "webhook", "https://93.184.216.34/a", ["item.created"], None, SYSTEM
    )
    kept, secret, _ = c.webhooks.subscribe(
        "webhook", "https://93.184.216.34/b", ["item.created"], None, SYSTEM
    )
    new_key = Fernet.generate_key().decode()
    # (the install's derived key, last in the list, still opens `kept`)
    rotation = SecretRotation(c.app, Credentials(c.mail.secret, [new_key]))
    done = rotation.rotate(SYSTEM)
    assert done.unreadable == (f"webhook {lost.id}",)
    assert done.webhooks == 1
    resealed: Any = c.app.repository.get(kept.id)
    assert Fernet(new_key.encode()).decrypt(resealed.sealed_secret.encode()).decode() == secret
