
# Cellar: the application/x-h5ad type, so .h5ad files open in Cellar from file managers.
if hash xdg-mime 2>/dev/null; then
    xdg-mime install --mode system --novendor '/opt/${sanitizedProductName}/resources/mime/cellar-h5ad.xml' || true
elif [ -d /usr/share/mime/packages ]; then
    cp -f '/opt/${sanitizedProductName}/resources/mime/cellar-h5ad.xml' /usr/share/mime/packages/cellar-h5ad.xml || true
    if hash update-mime-database 2>/dev/null; then
        update-mime-database /usr/share/mime || true
    fi
fi
