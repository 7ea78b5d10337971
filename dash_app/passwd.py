"""`python -m dash_app.passwd`: print a password hash for `auth.users[].password_hash`."""

from __future__ import annotations

import getpass
import sys

from werkzeug.security import generate_password_hash


def main() -> int:
    first = getpass.getpass("password: ")
    if len(first) < 8:
        print("error: use at least 8 characters", file=sys.stderr)
        return 2
    if getpass.getpass("again: ") != first:
        print("error: the two entries differ", file=sys.stderr)
        return 2
    print(generate_password_hash(first))
    return 0


if __name__ == "__main__":
    sys.exit(main())
