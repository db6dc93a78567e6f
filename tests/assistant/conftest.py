from __future__ import annotations

import pytest

from storedesk.assistant.nlu import Pipeline, get_pipeline


@pytest.fixture(scope="session")
def pipe() -> Pipeline:
    # uses the model cache in $STOREDESK_DATA_DIR (default ./.storedesk-data); trains once if missing
    return get_pipeline()
