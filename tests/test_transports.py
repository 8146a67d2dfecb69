"""The one place API errors are mapped (transports.mapped_errors): each of ckanapi's errors becomes the
bcdc_bulk error the rest of the tool acts on, in an editor's words."""
from __future__ import annotations

from types import SimpleNamespace

import ckanapi
import pytest

from bcdc_bulk import errors
from bcdc_bulk.transports import mapped_errors

WHERE, DOING = "the catalogue at https://x.invalid", "saving a dataset"


def raised(exc: Exception, response: object = None) -> errors.BulkError:
    with pytest.raises(errors.BulkError) as caught, mapped_errors(WHERE, DOING, lambda: response):
        raise exc
    return caught.value


def test_a_refused_record_keeps_the_fields_the_server_named():
    err = raised(ckanapi.ValidationError({"title": ["Missing value"], "__type": "Validation Error"}))
    assert isinstance(err, errors.ServerValidationError) and err.errors == {"title": ["Missing value"]}
    assert str(err) == f"{WHERE} rejected the record: title: Missing value"


def test_refused_access_and_a_missing_record_say_what_was_being_done():
    assert str(raised(ckanapi.NotAuthorized("no"))).startswith(f"{WHERE} refused access while saving a dataset")
    assert isinstance(raised(ckanapi.NotFound("gone")), errors.NotFound)


def test_a_busy_server_is_transient_with_its_retry_after_and_a_500_may_have_landed():
    busy = SimpleNamespace(status_code=503, headers={"Retry-After": "7"}, text="")
    err = raised(ckanapi.CKANAPIError("busy"), busy)
    assert isinstance(err, errors.TransientError) and err.retry_after == 7.0 and not err.maybe_done
    failed = SimpleNamespace(status_code=500, headers={}, text="<h1>Internal Server Error</h1>",
                             json=lambda: {"error": {"message": "KeyError: 'x'"}})
    err = raised(ckanapi.CKANAPIError("500"), failed)
    assert isinstance(err, errors.TransientError) and err.maybe_done and "KeyError: 'x'" in str(err)


def test_any_other_answer_is_a_catalogue_error_that_is_not_retried():
    err = raised(ckanapi.CKANAPIError("teapot"), SimpleNamespace(status_code=418, headers={}, text=""))
    assert type(err) is errors.CatalogueError and str(err) == f"{WHERE} failed while {DOING} (HTTP 418)"
