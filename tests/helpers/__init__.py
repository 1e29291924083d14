"""What several test modules share: synthetic footage and reading its stamps back
(``media``), clip export checks (``clips``), emulated NVRs (``devices``), servers over real
sockets (``servers``, ``grpc``), tasks (``tasks``), the browser tests' site (``web``) and
footage as a subprocess (``commands``). Nothing here is collected as tests."""
