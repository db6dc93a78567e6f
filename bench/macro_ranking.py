"""CPU per macro ranking (assistant.macro_suggestions.rank) over the demo macros and 100 copies: docs/benchmarks.md, gaps."""

import time

from storedesk.assistant.macro_suggestions import rank
from storedesk.demo import content
from storedesk.knowledge.models import Macro

macros = [
    Macro(id=i + 1, shop_id=1, name=m["name"], intent=m["intent"], bodies=content.macro_bodies(m), actions={})
    for i, m in enumerate(content.MACROS)
]
many = [
    Macro(id=i + 1, shop_id=1, name=f"{m.name} {i}", intent=m.intent, bodies=m.bodies, actions={})
    for i, m in enumerate(macros * 10)
]
for label, ms in (("10 demo macros", macros), ("100 macros", many)):
    for text, lang in (
        ("Hi, where is my order 1234? The parcel is late.", "en"),
        ("Wo bleibt mein Paket? Die Lieferung ist verspätet.", "de"),
    ):
        rank(ms, text=text, language=lang, intent="track_order", default_language="en")
        n = 200
        t0 = time.process_time()
        for _ in range(n):
            got = rank(ms, text=text, language=lang, intent="track_order", default_language="en")
        cpu = (time.process_time() - t0) / n * 1000
        print(f"{label} {lang}: {cpu:.2f} ms CPU per ranking -> {[s.name for s in got]}")
