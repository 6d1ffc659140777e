from django.http import JsonResponse
from django.shortcuts import get_object_or_404

from catalog.models import Book


def book_list(request):
    books = Book.objects.order_by("title").values("id", "title", "author", "price")
    return JsonResponse({"books": list(books)})


def book_detail(request, pk):
    book = get_object_or_404(Book, pk=pk)
    return JsonResponse(
        {"id": book.id, "title": book.title, "author": book.author, "in_stock": book.in_stock}
    )
