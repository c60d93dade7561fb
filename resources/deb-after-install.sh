#!/bin/sh
# Register the application/x-h5ad MIME type so .h5ad files open in Cellar.
xdg-mime install --novendor /opt/Cellar/resources/mime/cellar-h5ad.xml 2>/dev/null || true
update-desktop-database 2>/dev/null || true
