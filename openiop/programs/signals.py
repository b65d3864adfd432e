"""What programs announces to the apps above it, so that it imports none of them."""

from django.dispatch import Signal

# A seat of `track` may have freed (an enrollment ended); sent inside the ending transaction with
# track=<Track> and freed_by=<str>. admissions offers the seat to the track's waitlist
# (admissions.apps connects waitlist_offer_freed_seats).
seat_freed = Signal()
