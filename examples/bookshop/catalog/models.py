from django.db import models


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    in_stock = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.title} ({self.author})"
