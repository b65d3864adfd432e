"""The `openiop` console command: Django management with the project's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openiop.config.settings")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:]
    # Commands are modules with underscores; `openiop plan-week` names `plan_week` (issue 19).
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")
    execute_from_command_line(["openiop", *args])


if __name__ == "__main__":
    main()
