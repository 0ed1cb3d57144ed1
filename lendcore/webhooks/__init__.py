"""Domain events and Standard Webhooks: a transactional outbox delivered by Celery.

Services call `lendcore.webhooks.outbox.event_emit` inside their own transaction (one INSERT);
`services.webhooks_deliver` dispatches the outbox to the subscriptions and posts each delivery,
signed per Standard Webhooks 1.0, with retries, a dead letter, and order kept per loan.
"""
