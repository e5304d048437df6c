"""Scope-aware clients (issue 15): keystoneauth sessions and openstacksdk Connections that carry
a scope, the ``openstack`` CLI plugin, and the WSGI middleware that keeps a request's scope for
the calls a service makes while serving it.

Its own package, one floor above ``scope/`` (whose grammar it uses) and below ``cli/``: it is
imported by other programs (the ``openstack`` CLI, OpenStack services' paste pipelines), so it
must not pull in regionctl's command line or a site loader.
"""
