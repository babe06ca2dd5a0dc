"""``kiosk tech add-staff|list-staff|remove-staff``: the offline PINs of technician mode.

When the platform is down, staff log in to technician mode with their own
account and a 6-12 digit PIN checked against ``<storage>/staff_offline.json``
(salted scrypt hashes, one entry per person, no shared accounts). A county
system administrator creates the entries on the kiosk with this command.

The PIN is read from the terminal twice (not echoed), or from standard input
with ``--pin-stdin`` (one line) for provisioning scripts; never from the
command line, where it would land in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import getpass
import sys

from kiosk.core import config as config_mod
from kiosk.core.errors import ConfigError
from kiosk.core.idnumber import mask_id, mask_name


def register(sub, groups) -> None:
    p = sub.add_parser("tech", help="technician mode: offline staff PINs (add-staff, list-staff, remove-staff)")
    tsub = p.add_subparsers(dest="tech_command", metavar="ACTION", required=True)
    add = tsub.add_parser("add-staff", help="create or replace one person's offline PIN")
    add.add_argument("account", help="the person's own account, e.g. T0012")
    add.add_argument("--name", required=True, help="full name (shown masked)")
    add.add_argument("--id-number", required=True, help="citizen ID number (stored for the audit, shown masked)")
    add.add_argument("--role", action="append", required=True,
                     help="technician, operator, business_admin or system_admin (or the Chinese title); repeatable")
    add.add_argument("--expires", help="last valid day, YYYY-MM-DD (default: until replaced)")
    add.add_argument("--one-time", action="store_true", help="the PIN works for one login only")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input (one line)")
    add.set_defaults(func=_add)
    ls = tsub.add_parser("list-staff", help="list the offline entries (masked)")
    ls.set_defaults(func=_list)
    rm = tsub.add_parser("remove-staff", help="delete one person's offline PIN")
    rm.add_argument("account")
    rm.set_defaults(func=_remove)


def _path(args):
    from kiosk.flows.tech_mode import OFFLINE_FILE

    cfg = config_mod.load(args.config)
    cfg.storage_dir.mkdir(parents=True, exist_ok=True)
    return cfg.storage_dir / OFFLINE_FILE


def _read_pin(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    first = getpass.getpass("PIN (6-12 digits): ")
    if getpass.getpass("PIN again: ") != first:
        raise ConfigError("the two PINs differ; nothing was changed")
    return first


def _add(args: argparse.Namespace) -> int:
    from kiosk.flows import staff_auth as sa

    if not sa.parse_roles(args.role):
        raise ConfigError(f"no known role in {args.role}; use technician, operator, business_admin or system_admin")
    expires = None
    if args.expires:
        try:
            expires = _dt.date.fromisoformat(args.expires)
        except ValueError:
            raise ConfigError(f"--expires {args.expires!r} is not a date like 2027-06-30") from None
    path = _path(args)
    creds = sa.OfflineCredentials.load(path)
    entry = creds.add(args.account.strip(), args.name.strip(), args.id_number.strip(), args.role,
                      _read_pin(args.pin_stdin), one_time=args.one_time, expires=expires)
    creds.save(path)
    print(f"offline PIN set for {entry.account_id} ({mask_name(entry.name)}, {mask_id(entry.id_number)}, "
          f"roles {', '.join(entry.roles)}{', one-time' if entry.one_time else ''}"
          f"{', expires ' + entry.expires if entry.expires else ''}) in {path}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from kiosk.flows import staff_auth as sa

    for e in sa.OfflineCredentials.load(_path(args)).entries:
        print(f"{e.account_id}\t{mask_name(e.name)}\t{mask_id(e.id_number)}\t{','.join(e.roles)}\t"
              f"expires {e.expires or '-'}\tlast login {e.last_login or '-'}")
    return 0


def _remove(args: argparse.Namespace) -> int:
    from kiosk.flows import staff_auth as sa

    path = _path(args)
    creds = sa.OfflineCredentials.load(path)
    before = len(creds.entries)
    creds.entries = [e for e in creds.entries if e.account_id != args.account]
    if len(creds.entries) == before:
        raise ConfigError(f"no offline entry for {args.account}")
    creds.save(path)
    print(f"offline PIN of {args.account} removed")
    return 0
