"""Help center: categories, per-language articles (draft/published, public/internal), search that
tolerates typos and inflection and falls back across languages, the public portal and the editor."""
