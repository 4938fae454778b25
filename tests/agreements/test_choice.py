"""Which agreement speaks for a pair, over plain (unsaved) agreements: a pair
is linked for a service exactly when one of its agreements is in force and
covers that service."""
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as s

from agreements import queries
from agreements import status as st
from agreements.models import Agreement, AgreementService

DAY = date(2026, 11, 23)


@s.composite
def agreements(draw):
    out = []
    for i in range(draw(s.integers(min_value=0, max_value=5))):
        start = draw(s.none() | s.integers(-4000, 400).map(lambda d: DAY + timedelta(days=d)))
        length = draw(s.none() | s.integers(0, 3000))
        end = None if length is None else (start or DAY - timedelta(days=1000)) + timedelta(days=length)
        terminated = draw(s.none() | s.integers(-400, 400).map(lambda d: DAY + timedelta(days=d)))
        services = draw(s.sets(s.sampled_from(["loan", "copy"])))
        out.append(Agreement(
            id=i + 1, start_date=start, end_date=end, terminated_on=terminated,
            state=draw(s.sampled_from(["signed", "signed", "draft"])),
            services=[AgreementService(service=x, renewals_allowed=0) for x in sorted(services)]))
    return out


@settings(max_examples=300, deadline=None)
@given(agreements(), s.sampled_from(["loan", "copy"]))
def test_live_exactly_when_one_agreement_is_in_force_and_covers(found, service):
    chosen = queries._choose(found, service, DAY)
    expected = any(queries.status_of(a, DAY) in st.ROUTABLE and a.service(service) is not None
                   for a in found)
    if not found:
        assert chosen is None
        return
    agreement, status = chosen
    assert status == queries.status_of(agreement, DAY)
    live = status in st.ROUTABLE and agreement.service(service) is not None
    assert live == expected
