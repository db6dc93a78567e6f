"""The offline assistant. ``storedesk.assistant.nlu`` holds the understanding layer."""
