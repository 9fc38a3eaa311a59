"""The lab's traffic feed: the upstream provider the model service asks for ``traffic_index``.

A small real dependency (``python -m labs.traffic_feed``, port 8003 by default) so that "the dependency is
slow" and "the dependency is down" are network faults the service must survive with a timeout and a
fallback -- not flags inside the service.
"""
