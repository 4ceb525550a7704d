"""Locust entry for a checkout: `locust -f loadtest/locustfile.py -H http://127.0.0.1:8000`.

The users, mixes and tallies live in the package (serve_app/lab/load/), so
an installed Triage runs the same load tests (`triage load run ...`); this
file only re-exports them where Locust looks for them.
"""

from serve_app.lab.load.locustfile import *  # noqa: F401,F403
