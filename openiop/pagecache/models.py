from django.db import models


class DataGeneration(models.Model):
    """How many times data at one site has changed (site 0: data that belongs to no one site).

    Written only by the database triggers that triggers.py installs on PostgreSQL, in the same
    transaction as the change itself; cached pages compare the sum over the sites they show.
    """

    site_id = models.BigIntegerField(primary_key=True)
    n = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"site {self.site_id}: generation {self.n}"
