from ill.errors import ServiceError


class AgreementError(ServiceError):
    """Bad input or a forbidden change to a partner or an agreement."""
