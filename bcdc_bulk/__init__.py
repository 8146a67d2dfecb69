"""bcdc-bulk: edit a CKAN catalogue's metadata in bulk through Excel workbooks."""

__version__ = "0.1.0"
