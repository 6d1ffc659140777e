"""The nginx site, for the nginx and OpenSSL versions it targets. One file: the security headers
come from one template, rendered into every location (add_header does not inherit into a block
that adds its own), so `prodready check` and a reader see them where they apply."""

from __future__ import annotations

from dataclasses import dataclass

from prodready.generate.artifact import Kind, Rendered
from prodready.generate.context import DeployContext
from prodready.generate.templates import render


@dataclass(frozen=True)
class Listen:
    """Where the site listens and reaches the app: the host (systemd) layout by default, the
    compose network for compose, loopback ports for the end-to-end test."""

    upstream: str
    http_port: int = 80
    https_port: int = 443
    tls_dir: str = "tls"
    address: str = ""
    """Listen on this address only ("127.0.0.1:"), or on all ("")."""
    upstream_include: str | None = None
    """A file naming the upstream servers instead of `upstream` (`prodready deploy` writes
    it: the stable socket that each deploy points at the new generation)."""


def site_path(ctx: DeployContext) -> str:
    return ctx.nginx_site or f"{ctx.deploy_dir}/nginx/{ctx.name}.conf"


def render_site(ctx: DeployContext, listen: Listen) -> str:
    https_suffix = "" if listen.https_port == 443 else f":{listen.https_port}"
    return render(
        "nginx-site.conf.j2",
        name=ctx.name,
        nginx_version=".".join(map(str, ctx.nginx.nginx)),
        openssl_version=".".join(map(str, ctx.nginx.openssl)),
        target_source=ctx.nginx.source,
        http2_directive=ctx.nginx.http2_directive,
        zone=ctx.name.replace("-", "_"),
        upstream_name=f"{ctx.name.replace('-', '_')}_app",
        upstream=listen.upstream,
        upstream_include=listen.upstream_include,
        http_port=f"{listen.address}{listen.http_port}",
        https_port=f"{listen.address}{listen.https_port}",
        https_suffix=https_suffix,
        tls_dir=listen.tls_dir,
        server_name=ctx.server_name,
        client_max_body_size=ctx.client_max_body_size,
        read_timeout=ctx.request_timeout + 5,
        stream_paths=ctx.stream_paths,
        security_headers=render("security-headers.conf.j2").strip(),
        tls_protocols=render("tls-protocols.conf.j2", ecdh_curves=ctx.nginx.ecdh_curves).strip(),
    )


def render_nginx(ctx: DeployContext) -> list[Rendered]:
    include = f"{ctx.deploy_root}/nginx/upstream.conf" if ctx.deploy_root else None
    site = render_site(ctx, Listen(f"127.0.0.1:{ctx.port}", upstream_include=include))
    return [Rendered(Kind.NGINX, site_path(ctx), site)]
