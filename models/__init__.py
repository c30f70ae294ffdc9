"""Tables and the domain rules on them. Importing this package registers every table."""
from portal.models import (  # noqa: F401
    activity,
    auth,
    comments,
    customers,
    documents,
    estimates,
    invoices,
    organizations,
    outbox,
    payment_attempts,
    payment_methods,
    payments,
    projects,
    reviews,
    sequences,
    throttle,
)
