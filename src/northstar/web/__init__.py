"""The web UI and the JSON read API, mounted in the app that ``northstar serve`` runs.

``web/app.py`` mounts them; ``pages.py`` (HTML, Jinja2 templates in ``templates/``) and
``api.py`` (``/api/v1/...``) are thin adapters over :class:`northstar.Workspace`;
``present.py`` turns results into what templates show. See docs/web.md.
"""
