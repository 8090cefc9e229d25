"""CloudFront distributions, served at the edge from the distributions' configuration.

What lives here, as CloudFront behaves:

- ``model.py``: a distribution as the control plane describes it (origins, cache behaviours, cache
  policies and the legacy TTL fields, custom error responses) and its invalidations;
- ``cache.py``: the edge cache: cache keys, the TTL table, hits, misses and refresh hits;
- ``s3_origin.py``: reading an S3 origin (the one piece of the edge that talks to a backend);
- ``paths.py``, ``compression.py`` and ``ranges.py``: path normalisation, gzip, range GETs (206);
- ``errors.py``: CloudFront's own error answers;
- ``edge.py``: the edge core that puts these together, ``Edge.handle(request)``.
"""
