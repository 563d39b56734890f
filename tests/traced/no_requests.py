"""A program that makes no HTTP request at all."""

print("nothing to fetch here")
