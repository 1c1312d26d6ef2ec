"""Regions and the cities/areas inside them, any depth (Kenya: counties -> towns)."""

from __future__ import annotations

from django.db import models


class Location(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["parent", "name"])]

    def __str__(self) -> str:
        return self.name
