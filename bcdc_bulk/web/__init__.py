"""The CKAN extension: the workbook round trip in the catalogue's own pages (plugin ``bcdc_bulk``).

Enable it with ``ckan.plugins = ... bcdc_bulk`` and run a job worker (``ckan jobs worker``);
the settings are in the README. Everything it does goes through the library API (bcdc_bulk).
"""
