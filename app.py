"""Ripple's HTTP API and the public redirect (AWS Chalice).

Only the app lives here; the routes are in ``ripple.api`` by area (Chalice Blueprints in the
ripple layer), each declared with its auth, role and status by ``ripple.api.routing``. Heavy
modules (posters, Pillow, pydantic) are never imported at import time, because every cold
start of the redirect pays for what this module imports; see ``make bench`` for the ratio.
"""

from __future__ import annotations

from ripple.api import register_areas
from ripple.web.http_api import HttpApiChalice

# Behind the HTTP API's prefix routes (template.yaml), see ripple.web.http_api.
app = HttpApiChalice(app_name="ripple")
# Request bodies of these types arrive base64-encoded from API Gateway (the HTTP API encodes
# every non-text body) and Chalice decodes them; no response of the app has these types.
app.api.binary_types = ["image/jpeg", "image/png", "image/webp", *("text/csv", "application/vnd.ms-excel")]
register_areas(app)
