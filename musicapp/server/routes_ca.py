"""The certificate authority's routes: its certificate and CRL (open to all, they are public
by nature), a device's certificate for its signing key, and revocation by an admin."""

from __future__ import annotations

from typing import Annotated, Any

from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from musicapp.server import ca
from musicapp.server.auth import Caller, require_role
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_ID, Id, Name
from musicapp.server.writes import run_write
from musicapp.transparency import certs, signing

router = APIRouter(prefix="/v1", tags=["certificates"], route_class=FastJSONRoute)

PEM_TYPE = "application/x-pem-file"
Serial = Annotated[str, Path(min_length=1, max_length=ca.MAX_SERIAL_DIGITS)]


class CertificateRequest(BaseModel):
    csr: Annotated[str, StringConstraints(min_length=1, max_length=certs.MAX_REQUEST)] = Field(
        description="a PEM certificate request (PKCS#10) for the device's EC P-256 signing "
        "key, signed by that key"
    )


class RevokeIn(BaseModel):
    reason: Name = "revoked by the server's administrator"


@router.get("/ca")
def authority(request: Request) -> dict[str, str]:
    """The CA certificate (PEM), the log key it names, and the log key's signature over the
    certificate (DER): a client that pinned the log key can tell this CA is its server's."""
    server = request.app.state.server
    authority: ca.ServerCA = server.ca
    der = authority.cert.public_bytes(serialization.Encoding.DER)
    return {
        "certificate": authority.pem.decode("ascii"),
        "log_key": signing.public_key_b64(server.key),
        "signature": signing.sign(server.key, der),
    }


@router.get(
    "/ca/crl",
    response_class=Response,
    responses={200: {"content": {PEM_TYPE: {"schema": {"type": "string"}}}}},
)
def revocation_list(request: Request) -> Response:
    """The certificate revocation list now (PEM), signed by the CA, current for a week."""
    server = request.app.state.server
    with server.engine.connect() as conn:
        body = ca.crl(conn, server.ca)
    return Response(body, media_type=PEM_TYPE)


@router.post("/devices/certificate", status_code=201)
async def device_certificate(
    body: CertificateRequest, request: Request, account: Caller
) -> dict[str, str]:
    """A certificate for the calling device's signing key; its earlier ones are revoked."""
    require_role(account, "device")
    server = request.app.state.server
    return await run_write(
        server,
        lambda conn: ca.issue_for_device(conn, server.ca, account.id, account.public_key, body.csr),
    )


@router.get("/certificates")
def certificates(
    request: Request,
    account: Caller,
    device_id: Annotated[Id | None, Query(max_length=MAX_ID)] = None,
) -> dict[str, Any]:
    """The certificates issued (admin): serial, device, key fingerprint, issued, revoked."""
    require_role(account, "admin")
    with request.app.state.server.engine.connect() as conn:
        return {"certificates": ca.listed(conn, device_id)}


@router.post("/certificates/{serial}/revoke")
async def revoke_certificate(
    serial: Serial, body: RevokeIn, request: Request, account: Caller
) -> dict[str, Any]:
    """Revoke one certificate (admin); it is on the CRL from now on."""
    require_role(account, "admin")
    return await run_write(
        request.app.state.server, lambda conn: ca.revoke(conn, serial, body.reason)
    )
