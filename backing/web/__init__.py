"""`backing web`: a local web app for backers and modellers on one deployment.

The Python side (``backing.web.server``) holds no key and signs nothing: it serves the page and JSON read from
the chain through ``backing.client`` and computed by the reference model (``backing.model``), with errors in the
words of ``backing.errors``. Every transaction is built and signed in the browser's wallet (``web/src``, bundled
into ``backing/web/static/`` by ``make web``).
"""
