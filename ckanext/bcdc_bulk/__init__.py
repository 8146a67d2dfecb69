"""CKAN's name for the bcdc-bulk extension: the plugin and its database migrations live here, where
CKAN looks for them (``ckan db upgrade -p bcdc_bulk``); the extension itself is bcdc_bulk.web."""
