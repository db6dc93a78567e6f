"""Order tracking page: order number + email (or a signed link) → status, tracking events, ETA."""
