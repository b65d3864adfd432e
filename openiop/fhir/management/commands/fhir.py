"""`openiop fhir client create --user USERNAME --scopes "system/*.read" [--name NAME]
[--purpose treatment|payment|operations|patient_request] [--outside-organization NAME] --by ADMIN`:
register a backend client of the FHIR API and print its client id and secret (shown once)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from openiop.accounts.models import User
from openiop.consents.choices import Purpose
from openiop.core.actor import Actor
from openiop.core.cli import ProjectCommand
from openiop.core.errors import DomainError
from openiop.fhir.models import CLIENT_PURPOSES
from openiop.fhir.services import fhir_client_create


class Command(ProjectCommand):
    help = "FHIR API clients: `fhir client create` registers a backend (client credentials) client."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("noun", choices=["client"])
        parser.add_argument("verb", choices=["create"])
        parser.add_argument("--user", required=True, help="The staff user the client acts for")
        parser.add_argument(
            "--scopes",
            required=True,
            help='Space-separated SMART scopes, e.g. "system/*.read", and REST API scopes '
            '(docs/api.md), e.g. "api/*.read"',
        )
        parser.add_argument("--name", default="", help="What the integration is")
        parser.add_argument(
            "--purpose",
            default=Purpose.TREATMENT.value,
            choices=[value for value, _label in CLIENT_PURPOSES],
            help="Its purpose of use (42 CFR Part 2 consents are matched on it; default treatment)",
        )
        parser.add_argument(
            "--outside-organization",
            default="",
            help="The other organization it serves: its reads of Part 2 records then need consent",
        )
        parser.add_argument(
            "--by", required=True, help="The staff manager registering it (needs staff.manage)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[options["user"], options["by"]])
        }
        for key in ("user", "by"):
            if options[key] not in users:
                raise CommandError(f"There is no staff user '{options[key]}'.", returncode=2)
        by = Actor.cli(users[options["by"]], "fhir client create")
        try:
            new = fhir_client_create(
                user=users[options["user"]],
                scopes=options["scopes"],
                name=options["name"] or f"FHIR client for {options['user']}",
                purpose=options["purpose"],
                outside_organization=options["outside_organization"],
                by=by,
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(f"client_id: {new.client_id}")
        self.stdout.write(f"client_secret: {new.client_secret}")
        self.stdout.write(f"scopes: {new.client.scopes}")
        self.stdout.write(f"purpose: {new.client.purpose}")
        if new.client.outside_organization:
            self.stdout.write(f"outside organization: {new.client.outside_organization}")
        self.stdout.write("The secret is shown once; store it in the integration's secret store.")
