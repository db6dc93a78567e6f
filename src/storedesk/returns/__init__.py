"""Returns and exchanges: the return policy engine, the RMA service, the portal, labels and the queue."""
