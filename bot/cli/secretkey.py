"""`leifeng secrets`: move what is encrypted with LEIFENG_SECRET_KEY to a new key."""

from __future__ import annotations

import os
import sys

import click

from bot.config import load_config


@click.group("secrets")
def secrets_group() -> None:
    """LEIFENG_SECRET_KEY: re-encrypt stored ID numbers, phones, addresses and message copies after changing it."""


@secrets_group.command("rotate")
@click.option("--old-key-env", "old_key_env", metavar="VAR",
              help="Environment variable holding the previous secret key (e.g. LEIFENG_OLD_SECRET_KEY).")
@click.option("--old-key-stdin", is_flag=True, help="Read the previous secret key from the first line of stdin.")
@click.option("--dry-run", is_flag=True, help="Count what would move, change nothing.")
def rotate(old_key_env: str | None, old_key_stdin: bool, dry_run: bool) -> None:
    """Re-encrypt every stored ID number, phone, address and guardian (and recompute their lookup hashes), and the
    copies of what people said (dialogue slots, outbox payloads, processed and logged messages), from the
    previous secret key to the current LEIFENG_SECRET_KEY, in one transaction. Safe to run again: what is already
    under the new key stays.

    The previous key is never a command-line argument (those show in `ps` and shell history)."""
    from bot.people.idprotect import rotate_secret_key
    from bot.services import build_services

    old_key = _old_key(old_key_env, old_key_stdin)
    config = load_config()
    if old_key == config.secret_key:
        raise click.ClickException("the previous key is the current LEIFENG_SECRET_KEY: set LEIFENG_SECRET_KEY to "
                                   "the new key and pass the previous one")
    services = build_services(config, worker=True)  # refuses a published or short new key; the longer timeouts
    try:
        with services.sessions() as s:  # one transaction: every row moves, or none (closing rolls back)
            done = rotate_secret_key(s, old_key, config.secret_key, services.clock.now())
            if dry_run:
                s.rollback()
            else:
                s.commit()
    finally:
        services.close()
    moved = (f"{done.ids.moved} ID numbers to the new key ({done.ids.current} already under it), "
             f"{done.ids.registrations} registrations in progress and {done.contacts} phones, addresses and "
             f"message copies ({done.contacts_current} already under it)")
    click.echo(f"would move {moved}; nothing changed" if dry_run else f"moved {moved}")


def _old_key(env_name: str | None, from_stdin: bool) -> str:
    if bool(env_name) == from_stdin:
        raise click.UsageError("give the previous key with exactly one of --old-key-env VAR or --old-key-stdin")
    if env_name:
        key = os.environ.get(env_name, "")
        if not key:
            raise click.ClickException(f"the environment variable {env_name} is empty or not set")
        return key
    key = sys.stdin.readline().strip()
    if not key:
        raise click.ClickException("no previous key on stdin")
    return key
