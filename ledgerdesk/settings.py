"""ledgerdesk settings: the only place that reads the environment."""

from __future__ import annotations

import base64
import ipaddress
import socket
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BROKER_SCHEMES = frozenset({"redis", "rediss", "amqp", "amqps"})


class Settings(BaseSettings):
    """Every knob of a ledgerdesk install, read from `LEDGERDESK_*` variables."""

    # A refused value is not repeated in the error (it may be a key or a password).
    model_config = SettingsConfigDict(
        env_prefix="LEDGERDESK_", extra="ignore", hide_input_in_errors=True
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Where the embedded SQLite files and attachment blobs live.",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:pass@host:port/db; unset means embedded SQLite.",
    )
    database_schema: str = Field(
        default="public",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="PostgreSQL schema to use (lower-case letters, digits and _).",
    )
    blob_store: str = Field(
        default="local",
        description=(
            "Where attachments, raw mail and import files are kept: local (under the data"
            " directory), postgres (in the database: any number of API machines) or"
            " s3://bucket/prefix (S3-compatible object storage)."
        ),
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="Logs on standard error: JSON lines (one object a line) or plain text.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="The least severe log lines written."
    )
    ready_max_view_lag: int = Field(
        default=1000,
        ge=0,
        description="GET /health/ready answers 503 while a view lags the log by more events.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="A scraper sending `Authorization: Bearer <this>` may read /metrics from"
        " anywhere (at least 16 characters).",
    )
    metrics_addresses: str = Field(
        default="",
        max_length=5000,
        description="Comma-separated addresses or networks (10.0.0.0/8) that may read"
        " /metrics without the token. Neither set: /metrics answers 403 to everyone.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="Where the processes of one machine keep their metrics for /metrics to"
        " add up (default data_dir/metrics/<host name>; a tmpfs such as"
        " /run/ledgerdesk/metrics, emptied at boot, is best).",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="The S3-compatible server for an s3:// blob store; unset means AWS.",
    )
    database_pool_size: int = Field(default=10, ge=1)
    broker_url: str | None = Field(
        default=None,
        description="redis://... or amqp://...; unset means an in-memory broker (embedded).",
    )
    broker_namespace: str = Field(
        default="ledgerdesk",
        pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$",
        description="The dramatiq queue's name, and the Redis key prefix: one per install.",
    )
    worker_threads: int = Field(
        default=4, ge=1, description="dramatiq worker threads in each process that runs actors."
    )
    timers_allow_several: bool = Field(
        default=False,
        description="Let a user run several timers at once (by default, starting one pauses"
        " the running one).",
    )
    tick_seconds: float = Field(
        default=60.0, gt=0, description="How often periodic messages are enqueued."
    )
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    import_job_bytes: int = Field(
        default=1024 * 1024,
        ge=0,
        description="An import file larger than this runs as a job (202 and a job to poll);"
        " a smaller one is imported while its request waits (201).",
    )
    max_json_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        description="The largest JSON request body, counted as it is read (a 200,000-"
        "character description, every character escaped as JSON allows, is under 2.5 MB).",
    )
    read_wait_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a read waits for the views to reach the caller's last write"
        " (or X-Min-Position).",
    )
    stream_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often an idle real-time stream sends a comment line (so proxies keep"
        " it open) and checks its reader may still see it.",
    )
    session_hours: float = Field(
        default=12, gt=0, description="How long a password login's token lasts."
    )
    sign_in_attempts_per_client: int = Field(
        default=200,
        ge=1,
        description="Sign-in attempts (passwords, invitations) one client address may make"
        " in any sign_in_window_seconds; more answer 429.",
    )
    form_submissions_per_client: int = Field(
        default=20,
        ge=1,
        description="Web form submissions from one client address in any"
        " sign_in_window_seconds; more answer 429 (a page saying so).",
    )
    sign_in_failures_per_address: int = Field(
        default=10,
        ge=1,
        description="Failed sign-ins for one account address in any sign_in_window_seconds;"
        " more answer 429, even with the right password. Also the number of sign-in links"
        " one address may be sent in that time (counted apart).",
    )
    sign_in_window_seconds: int = Field(default=900, ge=1)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs reply addresses and our Message-IDs. Unset: a random key kept in"
        " data_dir/secret.key (set it, the same everywhere, when processes run on several"
        " machines).",
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys (Fernet.generate_key()) that seal the"
        " passwords and secrets ledgerdesk keeps: the first seals, every one opens. Unset:"
        " a key derived from the secret key. Rotate with `ledgerdesk secrets rotate`.",
    )
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description="The Web Push VAPID private key (PEM); unset: the one `init` made and kept"
        " as vapid.pem in the data directory (share one key between machines).",
    )
    push_subject: str | None = Field(
        default=None,
        description="Whom push services may contact (`mailto:` or an https URL); unset:"
        " mailto: the support address.",
    )
    push_allow_http: bool = Field(
        default=False,
        description="Accept push subscriptions whose endpoint is plain http (tests only).",
    )
    mail_address: str = Field(
        default="support@ledgerdesk.local",
        description="The install's support address: mail to it opens items in the Inbox.",
    )
    max_mail_bytes: int = Field(
        default=35 * 1024 * 1024,
        ge=1024,
        description="The largest message received (SMTP answers 552 above it).",
    )
    smtp_listen: str | None = Field(
        default=None,
        description="host:port: the embedded `serve` also receives mail over SMTP there.",
    )
    smtp_url: str | None = Field(
        default=None,
        description="Where mail leaves: smtp://user:pass@host:587?starttls=1, smtps://host:465"
        " or smtp://host:25. Unset (and no server set by admins): no mail is sent.",
    )
    forward_unread_after: float = Field(
        default=300,
        ge=0,
        description="Seconds after which a message is mailed to those of its recipients who"
        " have not read it (0: at once).",
    )
    public_url: str | None = Field(
        default=None,
        description="The address people reach this install at, for links in mail"
        " (default http://host:port).",
    )
    max_mail_attachment_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=0,
        description="Attachments up to this size travel with the mail; larger ones as links.",
    )
    frame_ancestors: str = Field(
        default="'none'",
        pattern=r"^[A-Za-z0-9 :/*.\-']{1,500}$",
        description="Who may show the customer pages in a frame: a CSP frame-ancestors list"
        " ('none', 'self', or origins such as https://www.example.com).",
    )
    webhook_retry_base_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="The first wait before a failed webhook delivery is tried again; each"
        " later wait doubles (12 retries: past a day at the default).",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        max_length=5000,
        description="Comma-separated host names or addresses webhooks may reach although they"
        " are not public (loopback, private, link-local ...); empty: only public addresses.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="How long one webhook delivery may take."
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @field_validator("smtp_listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port, such as 127.0.0.1:2525, not {value!r}")
        return value.strip()

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError("must be at least 16 characters (a random one, never a word)")
        if not value.get_secret_value().strip().isascii():
            raise ValueError("must be ASCII (it travels in an HTTP header)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("metrics_addresses")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is not an address or a network (such as 10.0.0.0/8)"
                ) from None
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        for n, key in enumerate(value.get_secret_value().split(","), 1):
            try:
                if len(base64.urlsafe_b64decode(key.strip().encode())) != 32:
                    raise ValueError
            except ValueError:
                raise ValueError(
                    f"key {n} is not a Fernet key (32 bytes in URL-safe base64, as"
                    " `python -c 'from cryptography.fernet import Fernet;"
                    " print(Fernet.generate_key().decode())'` makes)"
                ) from None
        return value

    @property
    def encryption_key_list(self) -> tuple[str, ...]:
        """LEDGERDESK_ENCRYPTION_KEYS, in order (the first seals)."""
        if self.encryption_keys is None:
            return ()
        return tuple(k.strip() for k in self.encryption_keys.get_secret_value().split(","))

    @property
    def webhook_allow_list(self) -> frozenset[str]:
        """LEDGERDESK_WEBHOOK_ALLOWED_HOSTS as lower-case names and addresses."""
        return frozenset(
            h.strip().lower().strip("[]")
            for h in self.webhook_allowed_hosts.split(",")
            if h.strip()
        )

    @property
    def smtp_address(self) -> tuple[str, int] | None:
        """LEDGERDESK_SMTP_LISTEN as (host, port)."""
        if self.smtp_listen is None:
            return None
        host, _, port = self.smtp_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator("broker_url")
    @classmethod
    def _known_broker(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        scheme = urlsplit(url).scheme
        if scheme not in BROKER_SCHEMES:
            raise ValueError(
                f"unsupported broker {scheme or url!r}: use redis://, rediss://, amqp:// or"
                " amqps://, or leave it unset for an in-memory broker"
            )
        return url

    @field_validator("blob_store")
    @classmethod
    def _blob_store(cls, spec: str) -> str:
        spec = spec.strip()
        if spec in ("local", "postgres"):
            return spec
        parts = urlsplit(spec)
        if parts.scheme == "s3" and parts.netloc:
            return spec
        raise ValueError(f"unknown blob store {spec!r}: use local, postgres or s3://bucket/prefix")

    @field_validator("s3_endpoint_url")
    @classmethod
    def _s3_endpoint(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected http://host[:port] or https://host[:port], not {url!r}")
        return url.strip()

    @model_validator(mode="after")
    def _postgres_blobs_need_postgres(self) -> Settings:
        if self.blob_store == "postgres" and self.database_url is None:
            raise ValueError(
                "LEDGERDESK_BLOB_STORE=postgres keeps blobs in the database: set"
                " LEDGERDESK_DATABASE_URL too (or use local or s3://bucket/prefix)"
            )
        return self

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, url: str | None) -> str | None:
        if url is None or not url.strip():
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "expected smtp://[user:pass@]host[:port][?starttls=1] or smtps://..., not"
                f" {parts.scheme or url!r}"
            )
        return url.strip()

    @property
    def base_url(self) -> str:
        """Where people reach the install, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """LEDGERDESK_METRICS_ADDRESSES as networks (an address is a network of one)."""
        parts = (p.strip() for p in self.metrics_addresses.split(","))
        return tuple(ipaddress.ip_network(p, strict=False) for p in parts if p)

    @property
    def metrics_path(self) -> Path:
        """LEDGERDESK_METRICS_DIR, or one directory per machine under the data directory
        (so that machines sharing a data directory never share their processes' files)."""
        return self.metrics_dir or self.data_dir / "metrics" / socket.gethostname()

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def spool_dir(self) -> Path:
        """Where uploads are spooled while they are hashed, before a shared store keeps them."""
        return self.data_dir / "spool"

    def event_store_env(self, *, create_table: bool) -> dict[str, str]:
        """The eventsourcing library's configuration for this install."""
        env = {
            "CREATE_TABLE": "y" if create_table else "n",
            "AGGREGATE_CACHE_MAXSIZE": "2000",
            "IS_SNAPSHOTTING_ENABLED": "y",
        }
        if self.database_url is None:
            env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
            env["SQLITE_DBNAME"] = str(self.data_dir / "events.sqlite3")
            env["SQLITE_LOCK_TIMEOUT"] = "30"
            return env
        url = urlsplit(self.database_url)
        env.update(
            {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                # The library's recorder deadlocks on a save bigger than a socket buffer.
                "APPLICATION_RECORDER_TOPIC": "commands.event_store:LedgerDeskRecorder",
                "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
                "POSTGRES_HOST": url.hostname or "127.0.0.1",
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": unquote(url.username or "postgres"),
                "POSTGRES_PASSWORD": unquote(url.password or ""),
                "POSTGRES_SCHEMA": self.database_schema,
                "POSTGRES_POOL_SIZE": str(self.database_pool_size),
                "POSTGRES_MAX_OVERFLOW": str(self.database_pool_size),
                "POSTGRES_LOCK_TIMEOUT": "10",
            }
        )
        return env

    def views_dsn(self) -> str:
        """Where the projected views live: the PostgreSQL URL or an SQLite file."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'views.sqlite3'}"
