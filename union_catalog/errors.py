from ill.errors import ServiceError


class CatalogError(ServiceError):
    """Bad input to the union catalogue: a file, a query, a record."""
