from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    INTERSEX = "intersex", "Intersex"
    UNKNOWN = "unknown", "Unknown"


class Relationship(models.TextChoices):
    PARENT = "parent", "Parent"
    GUARDIAN = "guardian", "Legal guardian"
    SPOUSE = "spouse", "Spouse / partner"
    SIBLING = "sibling", "Sibling"
    CHILD = "child", "Child"
    FRIEND = "friend", "Friend"
    OTHER = "other", "Other"
