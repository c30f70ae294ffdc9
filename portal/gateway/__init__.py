"""Payment gateways: the sandbox, and the one the settings choose."""
from sqlalchemy.ext.asyncio import async_sessionmaker

from portal.core.database import SerialSession
from portal.core.gateway import PaymentGateway
from portal.core.settings import Settings


def gateway_for(settings: Settings, session_factory: async_sessionmaker[SerialSession]) -> PaymentGateway:
    if settings.payment_gateway == "sandbox":
        from portal.gateway.sandbox import SandboxGateway

        return SandboxGateway(session_factory)
    raise ValueError(f"Unknown PORTAL_PAYMENT_GATEWAY: {settings.payment_gateway!r}")
