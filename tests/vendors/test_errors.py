"""Vendor failures are the media proxy's errors: one definition of the status each one answers with."""

from __future__ import annotations

import pytest

from synctv.media.errors import ProxyError, TargetForbidden, UpstreamTimeout, UpstreamUnreachable
from synctv.vendors import errors as ve


@pytest.mark.parametrize(("cls", "parent", "status"), [
    (ve.VendorError, ProxyError, 502),
    (ve.VendorUnreachable, UpstreamUnreachable, 502),
    (ve.VendorTimeout, UpstreamTimeout, 504),
    (ve.VendorForbiddenHost, TargetForbidden, 400),  # the host is part of the login form: the caller's mistake
    (ve.VendorBadCredentials, ve.VendorError, 400),
    (ve.VendorNotFound, ve.VendorError, 404),
    (ve.VendorRefused, ve.VendorError, 502),
    (ve.NotBound, ve.VendorError, 400),
    (ve.VendorUnavailable, ve.VendorError, 503),
])
def test_each_vendor_error_is_a_proxy_error_with_its_status(cls: type[ve.VendorError], parent: type[ProxyError],
                                                            status: int) -> None:
    exc = cls("what happened")
    assert isinstance(exc, ProxyError) and isinstance(exc, parent)
    assert (exc.status, exc.message, str(exc)) == (status, "what happened", "what happened")
    assert cls("x", 418).status == 418  # a status given at the raise wins


def test_a_refused_token_is_not_an_answer() -> None:
    # it never reaches a user: the stored credentials log in again first
    assert not issubclass(ve.TokenRejected, ProxyError)
