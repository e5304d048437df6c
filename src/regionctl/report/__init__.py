"""``regionctl report``: the whole site on one HTML page (gather the data, then draw it; both pure)."""
