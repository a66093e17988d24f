"""The `ledgerdesk` command line: serve, worker, migrate, users, tokens, projections, replay,
mail."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from pydantic import ValidationError

from commands.blobs import BlobStoreConfigError
from commands.metrics import enable_multiprocess
from commands.models import IssueToken, RegisterUser
from commands.secrets import SecretRotation
from domain.errors import DomainError, UserAlreadyExistsError
from domain.text import check_text
from domain.user import CompanyRole, Scope
from ledgerdesk import bootstrap
from ledgerdesk.backup_cli import add_backup_commands
from ledgerdesk.blobs_cli import add_blob_commands
from ledgerdesk.cli_common import CLI, CliError, _container
from ledgerdesk.import_cli import add_import_commands
from ledgerdesk.logs import configure_logging
from ledgerdesk.mail_cli import add_mail_commands
from ledgerdesk.rebuilds import in_parallel
from ledgerdesk.settings import Settings
from ledgerdesk.signals import stop_on_signals, wait_for
from projections.failures import ViewFailedError, ViewFailure
from projections.generations import RebuildError
from projections.runner import ViewStatus
from workers.mail.receiver import Receiver

# How long `replay --verify` lets a running runner reach the head before calling a view behind.
VERIFY_WAIT_SECONDS = 5.0
# A request still running this long after SIGTERM is cancelled (an import stops sooner).
GRACEFUL_SHUTDOWN_SECONDS = 30


def _settings() -> Settings:
    return Settings()


def cmd_migrate(args: argparse.Namespace) -> int:
    bootstrap.migrate(_settings())
    print("migrated: event store and view tables are in place")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    """Migrate, then create the first admin and print its token (only the first time)."""
    settings = _settings()
    bootstrap.migrate(settings)
    with _container(settings) as c:
        try:
            c.accounts.register_user(
                RegisterUser(email=args.admin_email, name="Administrator", role=CompanyRole.ADMIN),
                CLI,
            )
        except UserAlreadyExistsError:
            print(
                f"ready: admin {args.admin_email} exists (its token was printed when created;"
                f" `ledgerdesk tokens create --email {args.admin_email}` issues another)"
            )
            return 0
        _, token = c.accounts.issue_token(IssueToken(email=args.admin_email, label="init"), CLI)
    print(f"created admin {args.admin_email}; its API token (shown once, keep it safe):")
    print(token)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if not settings.is_postgres:
        bootstrap.migrate(settings)
    with _container(settings) as c:
        if not args.no_follow:
            c.follow()
            c.work()
        stopping = c.stopping

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                stopping.set()  # A running import stops between two batches.
                super().handle_exit(sig, frame)

        # uvicorn raises the signal again once it has shut down, with the handler it found
        # installed: ours only notes it, so the container closes and the exit code is 0.
        stop_on_signals(stopping)
        config = uvicorn.Config(
            c.http_app(),
            host=args.host,
            port=args.port,
            log_level="warning",
            log_config=None,  # our handler (ledgerdesk.logs) writes uvicorn's lines too
            access_log=False,  # one access line per request comes from the API itself
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        print(f"ledgerdesk serving on http://{args.host}:{args.port}/api/v1 (docs at /docs)")
        receiver = None
        if settings.smtp_address is not None:
            host, port = settings.smtp_address
            receiver = Receiver(c.mail, host, port)
            receiver.start()
            print(f"receiving mail (SMTP) on {host}:{port}", flush=True)
        try:
            Server(config).run()
        finally:
            if receiver is not None:
                receiver.stop()
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Run actors, the outbox relay and periodic ticks until SIGINT or SIGTERM."""
    settings = _settings()
    if args.threads is not None:
        settings = settings.model_copy(update={"worker_threads": args.threads})
    with _container(settings) as c:
        stop = stop_on_signals()
        c.work()
        print(f"working: {c.workers.describe()} (Ctrl-C to stop)", flush=True)
        wait_for(stop)
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    with _container(_settings()) as c:
        role = CompanyRole.ADMIN if args.admin else CompanyRole.MEMBER
        result = c.accounts.register_user(
            RegisterUser(email=args.email, name=args.name, role=role), CLI
        )
        user = c.accounts.user(result.id)
    print(f"created user {user.email} with id {user.id}")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    with _container(_settings()) as c:
        expires = (
            datetime.now(UTC) + timedelta(days=args.expires_in_days)
            if args.expires_in_days
            else None
        )
        cmd = IssueToken(
            email=args.email,
            label=args.label,
            scopes=_scopes(args.scopes),
            expires_at=expires,
        )
        _, token = c.accounts.issue_token(cmd, CLI)
    print(token)
    return 0


def _scopes(text: str) -> list[Scope]:
    known = [s.value for s in Scope]
    wanted = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise CliError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [Scope(s) for s in wanted]


def cmd_projections(args: argparse.Namespace) -> int:
    with _container(_settings()) as c:
        names = [args.name] if args.name else list(c.runner.projections)
        for name in names:
            c.runner.projection(name)  # An unknown name is an error before any work.
        if args.action == "status":
            print(f"{'view':<16}{'generation':>11}{'position':>12}{'head':>12}{'lag':>10}")
            for s in c.runner.status():
                if s.view in names:
                    row = f"{s.view:<16}{s.generation:>11}{s.position:>12}{s.head:>12}{s.lag:>10}"
                    print(f"{row}  FAILED" if s.failure else row)
            failed = [f for f in c.runner.failures() if f.view in names]
            for failure in failed:
                print(f"  {failure.view}: {_failed(failure)}")
            if failed:
                return 1  # A monitor or script sees that a view has stopped.
        elif args.action == "rebuild":
            # One pass over the log for every named view (on PostgreSQL, one per group of
            # views in parallel processes); one that fails does so alone.
            in_parallel(c.runner, c.settings)
            label = f"rebuild {names[0]}" if len(names) == 1 else f"rebuild {len(names)} views"
            try:
                rebuilt = c.runner.rebuild_many(names, _progress_bar(label))
            except RebuildError as error:
                rebuilt = error.rebuilt
                _print_rebuilt(rebuilt)
                raise  # Each failed view's error, after those switched over all the same.
            _print_rebuilt(rebuilt)
        else:
            _run_until_signalled(c, names)
    return 0


def _print_rebuilt(rebuilt: dict[str, int]) -> None:
    for name, generation in rebuilt.items():
        print(f"{name}: rebuilt as generation {generation} and switched over")


def _failed(failure: ViewFailure) -> str:
    return (
        f"FAILED: stuck at position {failure.position} (generation {failure.generation}),"
        f" {failure.attempts} attempt(s) since {failure.first_failed_at}: {failure.error}"
    )


def cmd_secrets(args: argparse.Namespace) -> int:
    """Seal every stored credential again under the first of LEDGERDESK_ENCRYPTION_KEYS."""
    settings = _settings()
    if not settings.encryption_key_list:
        raise CliError(
            "set LEDGERDESK_ENCRYPTION_KEYS first: the new key, then the old ones (the key"
            " derived from the secret key always opens what it sealed)"
        )
    with _container(settings) as c:
        done = SecretRotation(c.app, c.mail.credentials).rotate(CLI)
    print(
        f"sealed again under the first key: SMTP password {done.smtp}, mailboxes"
        f" {done.mailboxes}, webhooks and hooks {done.webhooks}"
    )
    if done.unreadable:
        print(
            "no key opens these (left as they were; set them again through the API): "
            + ", ".join(done.unreadable),
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Compare every view with the log; exit 1 if any differs, has failed or is behind."""
    if not args.verify:
        raise CliError("replay needs --verify (rebuild every view into fresh tables and compare)")
    return verify_views(_settings())


def verify_views(settings: Settings) -> int:
    """Print each view's audit (failed, behind, unlike a replay of the log); 1 if any is."""
    differences: list[str] = []
    troubled = False
    with _container(settings) as c:
        head = c.runner.log.head()
        # A running runner gets a moment to reach what was committed before the audit (a
        # failed view will not get there).
        failed = {f.view for f in c.runner.failures()}
        following = [name for name in c.runner.projections if name not in failed]
        c.runner.wait_for(head, following, VERIFY_WAIT_SECONDS)
        status = {s.view: s for s in c.runner.status()}
        # Every view with a live generation is replayed in one pass over the log (on
        # PostgreSQL, one per group of views in parallel processes).
        in_parallel(c.runner, c.settings)
        audited = [name for name in c.runner.projections if name in status]
        replayed = c.runner.verify_many(audited, _progress_bar(f"replay {len(audited)} views"))
        for name in c.runner.projections:
            problems, found = _audit(name, status.get(name), head, replayed.get(name))
            troubled = troubled or bool(problems)
            print(f"{name}: {'; '.join(problems) or 'OK'}")
            differences += found
    for line in differences:
        print(f"  {line}")
    return 1 if troubled else 0


def _audit(
    name: str, status: ViewStatus | None, head: int, replayed: list[str] | ViewFailedError | None
) -> tuple[list[str], list[str]]:
    """What is wrong with a live view (failed, behind the log, or unlike a replay of it),
    and the differences found."""
    if status is None or replayed is None:
        return ["no live generation (run `ledgerdesk migrate`)"], []
    problems = []
    if status.failure is not None:
        problems.append(_failed(status.failure))
    elif status.position < head:
        problems.append(
            f"BEHIND: at position {status.position} of the log's {head}"
            " (is a runner following the log?)"
        )
    if isinstance(replayed, ViewFailedError):
        return [*problems, f"the log cannot be replayed into it: {replayed}"], []
    if replayed:
        problems.append(f"{len(replayed)} difference(s)")
    return problems, replayed


def _run_until_signalled(c: bootstrap.Container, names: Sequence[str]) -> None:
    stop = stop_on_signals()
    c.follow(names)
    print(f"following the log into: {', '.join(names)} (Ctrl-C to stop)", flush=True)
    wait_for(stop)


def _progress_bar(label: str) -> Callable[[int, int], None]:
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def progress(position: int, head: int) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=head, desc=label, unit="ev", file=sys.stderr)
        b = bar["bar"]
        b.total = head
        b.update(position - b.n)
        if position >= head:
            b.close()

    return progress


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ledgerdesk", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the API (embedded: migrates, follows the views, runs the workers)"
    )
    serve.add_argument("--host", default=Settings().host)
    serve.add_argument("--port", type=int, default=Settings().port)
    serve.add_argument(
        "--no-follow",
        action="store_true",
        help="do not run projections or workers in this process",
    )
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run actors, the outbox relay and periodic ticks")
    worker.add_argument(
        "--threads", type=_positive, default=None, help="worker threads (default: worker_threads)"
    )
    worker.set_defaults(func=cmd_worker)

    sub.add_parser("migrate", help="create the tables").set_defaults(func=cmd_migrate)

    init = sub.add_parser("init", help="migrate and create the first admin (prints its token)")
    init.add_argument("--admin-email", required=True)
    init.set_defaults(func=cmd_init)

    users = sub.add_parser("users", help="staff users").add_subparsers(dest="action", required=True)
    create = users.add_parser("create", help="create a staff user")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true")
    create.set_defaults(func=cmd_users_create)

    tokens = sub.add_parser("tokens", help="bearer tokens").add_subparsers(
        dest="action", required=True
    )
    token = tokens.add_parser("create", help="issue a bearer token (printed once)")
    token.add_argument("--email", required=True)
    token.add_argument("--label", default="cli")
    token.add_argument(
        "--scopes",
        default="",
        help="comma-separated: read,write,admin (default: every scope the user may hold)",
    )
    token.add_argument("--expires-in-days", type=float, default=None)
    token.set_defaults(func=cmd_tokens_create)

    projections = sub.add_parser("projections", help="the views")
    projections.add_argument("action", choices=["status", "run", "rebuild"])
    projections.add_argument("name", nargs="?", help="one view (default: all)")
    projections.set_defaults(func=cmd_projections)

    keys = sub.add_parser("secrets", help="the credentials the install keeps")
    keys.add_argument("action", choices=["rotate"], help="seal them again under the first key")
    keys.set_defaults(func=cmd_secrets)

    replay = sub.add_parser("replay", help="audit: rebuild views from the log and compare")
    replay.add_argument("--verify", action="store_true")
    replay.set_defaults(func=cmd_replay)

    add_blob_commands(sub)
    add_backup_commands(sub, verify_views)
    add_import_commands(sub)
    add_mail_commands(sub)
    return p


def _configure_logging(args: argparse.Namespace) -> None:
    """Log lines on standard error, tagged with the process's role. A one-off command (a
    migration, a token) writes only warnings and errors there, beside its own output."""
    action = getattr(args, "action", None)
    role = {
        "serve": "api",
        "worker": "worker",
        "projections": "runner" if action == "run" else "cli",
        "mail": "mail" if action == "serve" else "cli",
    }.get(args.command, "cli")
    settings = Settings()
    level = settings.log_level if role != "cli" or settings.log_level == "debug" else "warning"
    configure_logging(role, settings.log_format, level)
    if role != "cli":
        # Before anything is counted: the machine's processes add up in one directory.
        try:
            enable_multiprocess(settings.metrics_path)
        except OSError as cannot:
            raise CliError(
                f"the metrics directory {settings.metrics_path} cannot be used ({cannot});"
                " set LEDGERDESK_METRICS_DIR to a directory this user may write"
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Inside: the parser's defaults read the settings, which may be invalid.
        args = parser().parse_args(argv)
        _configure_logging(args)
        for name, value in vars(args).items():  # The API's rule for text, for every argument.
            if isinstance(value, str):
                check_text(value, name.replace("_", "-"))
        code: int = args.func(args)
    except (CliError, DomainError, KeyError, ViewFailedError, BlobStoreConfigError) as error:
        message = error.args[0] if isinstance(error, KeyError) else str(error)
        print(f"ledgerdesk: error: {message}", file=sys.stderr)
        return 2
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        print(f"ledgerdesk: error: {problems}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
