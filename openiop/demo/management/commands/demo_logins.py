from typing import Any

from openiop.accounts.models import User
from openiop.core.cli import ProjectCommand
from openiop.demo.cast import DEMO_PASSWORD, STAFF


class Command(ProjectCommand):
    help = "Print the demo clinic's logins (fictional staff)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="Where the server listens"
        )

    def handle(self, *args: object, **options: Any) -> None:
        usernames = [s[0] for s in STAFF]
        users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        if not users:
            self.stdout.write("No demo clinic loaded. Run `openiop demo` first.")
            return
        self.stdout.write("")
        self.stdout.write(
            f"OpenIOP demo clinic: {options['url']}  (every password: {DEMO_PASSWORD})"
        )
        self.stdout.write(f"{'username':<14} {'role':<32} name")
        for username in usernames:
            user = users.get(username)
            if user is None:
                continue
            extra = "  (sets up two-factor on first login)" if user.mfa_required else ""
            self.stdout.write(f"{username:<14} {user.role_label:<32} {user.get_full_name()}{extra}")
        self.stdout.write("")
