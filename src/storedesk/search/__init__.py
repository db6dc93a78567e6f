"""Full-text search over conversations, messages, customers and orders (SQLite FTS5 / PostgreSQL)."""
