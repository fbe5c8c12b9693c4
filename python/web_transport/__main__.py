"""``python -m web_transport``: the same as the ``web-transport`` command."""

from web_transport.cli import main

raise SystemExit(main())
