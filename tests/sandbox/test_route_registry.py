"""Every sandbox route is registered in one place: ``sandbox/routes/__init__.py``."""

from __future__ import annotations

import importlib
import pkgutil

import linq_mcp.sandbox
from linq_mcp.sandbox import routes
from linq_mcp.sandbox.app import create_sandbox
from linq_mcp.sandbox.router import Router


def _every_router() -> dict[str, Router]:
    """Each ``Router`` any sandbox module defines, by ``module.name``."""
    found: dict[str, Router] = {}
    for info in pkgutil.walk_packages(linq_mcp.sandbox.__path__, "linq_mcp.sandbox."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, Router) and getattr(module, "__name__", "") == info.name:
                found.setdefault(f"{info.name}.{name}", value)
    return found


def test_every_router_a_module_defines_is_in_the_registry() -> None:
    registered = [id(r) for r in routes.API_ROUTERS + routes.ADMIN_ROUTERS]
    missing = [name for name, router in _every_router().items() if id(router) not in registered]
    assert not missing, f"routers defined but not registered in sandbox/routes/__init__.py: {missing}"


def test_a_sandbox_serves_exactly_the_registered_routes() -> None:
    sandbox = create_sandbox()
    api = [c.route for c in sandbox.api_routes]
    admin = [c.route for c in sandbox.admin_routes]
    assert api == [route for router in routes.API_ROUTERS for route in router.routes]
    assert admin == [route for router in routes.ADMIN_ROUTERS for route in router.routes]


def test_no_two_routes_share_a_method_and_path() -> None:
    seen = [(r.method, r.path) for router in routes.API_ROUTERS + routes.ADMIN_ROUTERS for r in router.routes]
    assert len(seen) == len(set(seen))
