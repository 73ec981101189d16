"""Ripple: all-staff marketing on AWS serverless.

Package layout follows the Cosmic Python split:

* ``ripple.domain``   pure business rules (no boto3, no I/O), testable in microseconds;
* ``ripple.service``  use cases that orchestrate the domain through repository ports;
* ``ripple.adapters`` the one persistence layer (PynamoDB models) plus auth;
* ``ripple.bootstrap`` the composition root that wires real adapters lazily.

Entry points (``app.py`` and ``functions/*``) only parse input, call a use case and map
``ripple.domain.errors`` to responses.
"""

__version__ = "0.1.0"
