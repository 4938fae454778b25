from ill.errors import ServiceError


class CatalogError(ServiceError):
    """Bad input to the union catalogue: a file, a query, a record."""

    @classmethod
    def said(cls, template: str, *, as_kind: str = "", as_code: str | None = None,
             as_status: int | None = None, **args):
        """An error that keeps how it was said: its message in English (for
        scripts, logs and ``ImportRun.failure``) and its msgid (marked with
        N_) and values (``args``) in ``details["failure"]``, so that a page
        or a mail says it later in its reader's language (``failure_text``).
        as_kind: a name a page acts on (``too_many_withdrawals``); as_code,
        as_status: the error's code and HTTP status, when not its class's."""
        failure = {"template": template, "args": args, **({"kind": as_kind} if as_kind else {})}
        return cls(template % args if args else template, code=as_code, status=as_status,
                   details={"failure": failure})

    def localized(self) -> str:
        """The message in the reader's language, where it was said so."""
        return failure_text(self.details.get("failure"), self.message)


def failure_text(failure: dict | None, fallback: str = "") -> str:
    """A failure kept by ``CatalogError.said``, in the reader's language;
    fallback (the English message) for one that kept nothing."""
    from flask_babel import gettext

    if not failure or not failure.get("template"):
        return fallback
    args = failure.get("args") or {}
    return gettext(failure["template"]) % args if args else gettext(failure["template"])
