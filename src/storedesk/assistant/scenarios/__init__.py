"""The scenario suite: scripted customer conversations against the demo shop (``storedesk assistant eval
--scenarios``). ``scenarios.jsonl`` is the data; :mod:`.runner` plays it through the real ingest and job
path and scores it."""
