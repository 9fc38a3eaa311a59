"""Load testing with Locust: traffic shapes, data profiles, a headless runner and a capacity finder.

``locustfile.py`` is a plain Locust file (``locust -f labs/load/locustfile.py``); everything else here serves
``aiops-lab load`` (run it, show progress, read the results, step users up to find the knee).
"""
