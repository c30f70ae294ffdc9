"""Payment gateways: the sandbox, and the one the settings choose."""
from portal.core.gateway import PaymentGateway


def gateway_for(settings, session_factory) -> PaymentGateway:
    if settings.payment_gateway == "sandbox":
        from portal.gateway.sandbox import SandboxGateway

        return SandboxGateway(session_factory)
    raise ValueError(f"Unknown PORTAL_PAYMENT_GATEWAY: {settings.payment_gateway!r}")
