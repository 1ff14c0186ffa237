"""The human study: experts rate two videos of a prompt side by side, 1-5 per question,
stored in a real database (SQLite by default, PostgreSQL by URL)."""
