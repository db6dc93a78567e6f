"""Help-center search: one interface over SQLite FTS5 and PostgreSQL full-text, with a typo-tolerant
layer and a cross-language fallback on top.

For a query in language L:

A. full text in L, every query word required (each word may also match its typo corrections);
B. when A finds fewer than ``limit``: full text in L, any word, plus same-language synonyms from the
   thesaurus ("send back" → "return");
C. when still short: the other languages of the shop, with the thesaurus' words for the query's
   concepts in that language and the query words that occur in that language's vocabulary (brand names,
   numbers); hits are shown in L when the article has an L version, else in the language found (the
   page says which);
D. when nothing at all: fuzzy title match (rapidfuzz) over the titles in L and the default language.

Typo corrections come from the shop's vocabulary (every word of its published articles), held in process
memory per shop and rebuilt when the index changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.helpcenter import thesaurus
from storedesk.helpcenter.repository import EntryRow, SearchIndexRepository, full_text_for
from storedesk.helpcenter.text import fold, is_stopword, stem, words

log = logging.getLogger("storedesk.helpcenter")

MAX_QUERY_WORDS = 8
MAX_QUERY_LENGTH = 200
FINGERPRINT_TTL = 2.0  # seconds between index checks per shop (other processes' edits)
FALLBACK_BELOW = 3  # look in other languages when the reader's language gives fewer hits than this


@dataclass(frozen=True)
class SearchHit:
    article_id: int
    entry_id: int
    language: str
    title: str
    slug: str
    category: str
    visibility: str
    snippet: str
    score: float
    via: str  # text | synonym | translation | title
    matched_language: str  # the language the match was found in

    @property
    def other_language(self) -> bool:
        return self.via == "translation" and self.language != self.matched_language


@dataclass
class SearchResult:
    query: str
    language: str
    hits: list[SearchHit] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)


@dataclass
class Vocabulary:
    fingerprint: tuple[int, int, str]
    checked_at: float
    languages: dict[str, set[str]]  # language → folded words (public and internal)
    public: set[str]  # folded words that occur in public entries
    surface: dict[str, str]  # folded → a surface form
    frequency: dict[str, int]  # folded → in how many entries it occurs
    by_length: dict[int, list[str]]  # correction targets (folded) by length
    public_by_length: dict[int, list[str]]
    sorted_words: list[str]
    titles: list[tuple[int, str, str, str]]  # (entry id, language, visibility, folded title)


_cache: dict[int, Vocabulary] = {}
_locks: dict[int, asyncio.Lock] = {}
_refreshing: set[int] = set()
_tasks: set[asyncio.Task[None]] = set()
CORRECTION_TARGETS = 20_000  # typos are corrected to the shop's most frequent words


def invalidate(shop_id: int) -> None:
    """Mark a shop's vocabulary stale (after a local index write commits): the next search checks the
    index at once instead of waiting for the periodic check."""
    cached = _cache.get(shop_id)
    if cached is not None:
        cached.checked_at = 0.0


def forget(shop_id: int | None = None) -> None:
    """Drop cached vocabularies (tests, benchmarks)."""
    if shop_id is None:
        _cache.clear()
    else:
        _cache.pop(shop_id, None)


def _build(
    fingerprint: tuple[int, int, str], rows: Sequence[tuple[int, int, str, str, str, str]]
) -> Vocabulary:
    by_language: dict[str, set[str]] = {}
    public_surface: set[str] = set()
    counts: Counter[str] = Counter()
    titles: list[tuple[int, str, str, str]] = []
    for entry_id, _article_id, language, visibility, title, entry_words in rows:
        split = entry_words.split()
        by_language.setdefault(language, set()).update(split)
        if visibility == "public":
            public_surface.update(split)
        counts.update(split)
        titles.append((entry_id, language, visibility, fold(title)))
    surface: dict[str, str] = {}
    frequency: dict[str, int] = {}
    folded_of: dict[str, str] = {}
    for word, n in counts.items():
        folded = folded_of[word] = fold(word)
        surface.setdefault(folded, word)
        frequency[folded] = frequency.get(folded, 0) + n
    languages = {lang: {folded_of[w] for w in ws} for lang, ws in by_language.items()}
    public = {folded_of[w] for w in public_surface}
    targets = {folded_of[w] for w, _ in counts.most_common(CORRECTION_TARGETS)}
    by_length: dict[int, list[str]] = {}
    public_by_length: dict[int, list[str]] = {}
    for word in targets:
        if word in surface:
            by_length.setdefault(len(word), []).append(word)
            if word in public:
                public_by_length.setdefault(len(word), []).append(word)
    return Vocabulary(
        fingerprint, time.monotonic(), languages, public, surface, frequency, by_length, public_by_length,
        sorted(surface), titles,
    )  # fmt: skip


async def _load(session: AsyncSession, shop_id: int, fingerprint: tuple[int, int, str]) -> Vocabulary:
    rows = await SearchIndexRepository(session, shop_id).vocabulary_rows()
    built = await asyncio.to_thread(_build, fingerprint, rows)
    _cache[shop_id] = built
    return built


async def _refresh(bind: Any, shop_id: int) -> None:
    try:
        async with AsyncSession(bind) as session:
            fingerprint = await SearchIndexRepository(session, shop_id).fingerprint()
            await _load(session, shop_id, fingerprint)
    except Exception:  # a failed refresh keeps the old vocabulary; the next check tries again
        log.exception("refreshing the help-center vocabulary of shop %s failed", shop_id)
    finally:
        _refreshing.discard(shop_id)


async def vocabulary(session: AsyncSession, shop_id: int) -> Vocabulary:
    """The shop's vocabulary. Built on first use (the caller waits); when the index has changed, the
    old vocabulary keeps serving while a background task rebuilds it — a big help center takes
    seconds to read, and a new word missing from typo correction for those seconds harms nobody."""
    cached = _cache.get(shop_id)
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < FINGERPRINT_TTL:
        return cached
    fingerprint = await SearchIndexRepository(session, shop_id).fingerprint()
    if cached is not None:
        cached.checked_at = now
        if cached.fingerprint != fingerprint and shop_id not in _refreshing:
            _refreshing.add(shop_id)
            task = asyncio.get_running_loop().create_task(_refresh(session.bind, shop_id))
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)
        return cached
    lock = _locks.setdefault(shop_id, asyncio.Lock())
    async with lock:
        cached = _cache.get(shop_id)
        if cached is not None:
            return cached
        return await _load(session, shop_id, fingerprint)


def _known(vocab: Vocabulary, folded: str, public_only: bool) -> bool:
    """The word, or a longer word it is the start of, occurs in the index."""
    import bisect

    words_ = vocab.sorted_words
    i = bisect.bisect_left(words_, folded)
    while i < len(words_) and words_[i].startswith(folded):
        if not public_only or words_[i] in vocab.public:
            return True
        i += 1
    return False


def corrections(vocab: Vocabulary, word: str, *, public_only: bool, limit: int = 2) -> list[str]:
    """Vocabulary words within one edit (words of 4–7 letters) or two edits (longer words); swapping
    two neighbouring letters counts as one edit (optimal string alignment)."""
    folded = fold(word)
    if len(folded) < 4:
        return []
    max_edits = 1 if len(folded) <= 7 else 2
    source = vocab.public_by_length if public_only else vocab.by_length
    candidates: list[str] = []
    for length in range(len(folded) - max_edits, len(folded) + max_edits + 1):
        candidates.extend(source.get(length, ()))
    found = process.extract(folded, candidates, scorer=OSA.distance, score_cutoff=max_edits, limit=limit * 5)
    # fewest edits first, then the word most articles use
    ranked = sorted(found, key=lambda m: (m[1], -vocab.frequency.get(m[0], 0), m[0]))
    return [vocab.surface[m[0]] for m in ranked[:limit]]


def _snippet(row: EntryRow, query_words: Sequence[str], width: int = 180) -> str:
    text = row.body_text.replace("\n", " ")
    folded_text = fold(text)
    at = -1
    for word in query_words:
        stem_ = stem(word, row.language)
        if len(stem_) >= 3:
            at = folded_text.find(stem_[: max(3, len(stem_) - 1)])
            if at >= 0:
                break
    if at < 0:
        at = 0
    start = max(0, at - width // 3)
    if start:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space >= 0 else start
    piece = text[start : start + width]
    if start + width < len(text):
        piece = piece.rsplit(" ", 1)[0] + " …"
    return ("… " if start else "") + piece


async def search(
    session: AsyncSession,
    *,
    shop_id: int,
    query: str,
    language: str,
    default_language: str,
    include_internal: bool = False,
    limit: int = 10,
) -> SearchResult:
    q = " ".join(query.split())[:MAX_QUERY_LENGTH]
    result = SearchResult(query=q, language=language)
    raw = [w for w in words(q) if not is_stopword(w, language)][:MAX_QUERY_WORDS]
    if not raw:
        return result
    visibility = ("public", "internal") if include_internal else ("public",)
    public_only = not include_internal
    vocab = await vocabulary(session, shop_id)
    backend = full_text_for(session, shop_id)
    index = SearchIndexRepository(session, shop_id)

    groups: list[list[str]] = []
    for word in raw:
        alternatives = [word]
        if not _known(vocab, fold(word), public_only):
            fixed = corrections(vocab, word, public_only=public_only)
            if fixed:
                result.corrections[word] = fixed[0]
            alternatives += fixed
        groups.append(alternatives)
    all_words = [w for g in groups for w in g]
    concepts = thesaurus.concepts_for_query(all_words, language)

    found: dict[int, tuple[int, float, str, str]] = {}  # entry id → (order, score, via, language)

    def take(matches: list[tuple[int, float]], via: str, lang: str) -> None:
        for entry_id, score in matches:
            if entry_id not in found:
                found[entry_id] = (len(found), score, via, lang)

    has_language = language in vocab.languages
    if has_language:
        # titles first: few matches, cheap to rank even for common words, and the best answers
        take(
            await backend.match(
                language, groups, mode="and", visibility=visibility, limit=limit, title_only=True
            ),
            "text",
            language,
        )
        if len(found) < limit:
            take(
                await backend.match(language, groups, mode="and", visibility=visibility, limit=limit),
                "text",
                language,
            )
        if len(found) < limit:
            extra = [g + thesaurus.expansion(concepts, language) for g in groups] if concepts else groups
            take(
                await backend.match(language, extra, mode="or", visibility=visibility, limit=limit),
                "synonym",
                language,
            )
    if len(found) < min(limit, FALLBACK_BELOW):
        specs: list[tuple[str, list[list[str]]]] = []
        for other in sorted(vocab.languages, key=lambda lang_: (lang_ != default_language, lang_)):
            if other == language:
                continue
            present = [w for w in all_words if fold(w) in vocab.languages[other]]
            targets = thesaurus.expansion(concepts, other) + present
            if targets:
                specs.append((other, [targets]))
        if specs:  # one statement for every other language; the shop's default language first
            priority = {lang: n for n, (lang, _) in enumerate(specs)}
            matches = await backend.match_languages(specs, visibility=visibility, limit=limit)
            for entry_id, score, other in sorted(matches, key=lambda m: (priority.get(m[2], 99), -m[1])):
                if entry_id not in found:
                    found[entry_id] = (len(found), score, "translation", other)
    if not found:
        wanted = {language, default_language}
        titles = {
            entry_id: title
            for entry_id, lang, vis, title in vocab.titles
            if lang in wanted and vis in visibility
        }
        for _title, score, entry_id in process.extract(
            fold(q), titles, scorer=fuzz.WRatio, score_cutoff=72, limit=limit
        ):
            found.setdefault(entry_id, (len(found), float(score), "title", language))

    rows = await index.rows(list(found))
    # one hit per article: the first match wins; shown in the reader's language when it exists
    by_article: dict[int, tuple[EntryRow, float, str, str]] = {}
    for entry_id, (_, score, via, lang) in sorted(found.items(), key=lambda item: item[1][0]):
        row = rows.get(entry_id)
        if row is not None and row.article_id not in by_article:
            by_article[row.article_id] = (row, score, via, lang)
    translated = [aid for aid, (row, _, _, _) in by_article.items() if row.language != language]
    if translated:
        for own in await index.rows_for_articles(translated, language):
            if own.visibility in visibility:
                _, score, via, matched = by_article[own.article_id]
                by_article[own.article_id] = (own, score, via, matched)
    for row, score, via, matched in list(by_article.values())[:limit]:
        result.hits.append(
            SearchHit(
                article_id=row.article_id,
                entry_id=row.id,
                language=row.language,
                title=row.title,
                slug=row.slug,
                category=row.category,
                visibility=row.visibility,
                snippet=_snippet(row, all_words + thesaurus.expansion(concepts, row.language)),
                score=score,
                via=via,
                matched_language=matched,
            )
        )
    return result
