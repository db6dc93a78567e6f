"""Store platform adapters behind one Protocol (``protocol.Connector``), chosen through ``registry``."""
