"""A text in both languages: (Bahasa Indonesia, English)."""

Pair = tuple[str, str]
