"""A certificate authority made for this session alone (trustme), and a certificate from it
for the embedded server: HTTPS on loopback with no network and nothing installed.

fetchviz's clients trust this CA as they trust a --cacert file, and nothing else trusts it:
it exists for the session, in a directory removed when the session ends.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class SessionCerts:
    """PEM files: the CA to trust, and the server's certificate chain and key."""

    folder: str
    ca: str
    cert: str
    key: str

    @classmethod
    def make(cls) -> SessionCerts:
        import trustme

        authority = trustme.CA(organization_name="fetchviz session")
        server = authority.issue_cert("127.0.0.1", "localhost", "::1")
        folder = Path(tempfile.mkdtemp(prefix="fetchviz-tls-"))
        authority.cert_pem.write_to_path(str(folder / "ca.pem"))
        server.private_key_pem.write_to_path(str(folder / "server.key"))
        server.cert_chain_pems[0].write_to_path(str(folder / "server.pem"))
        for pem in server.cert_chain_pems[1:]:  # the chain, should trustme add intermediates
            pem.write_to_path(str(folder / "server.pem"), append=True)
        return cls(
            str(folder),
            str(folder / "ca.pem"),
            str(folder / "server.pem"),
            str(folder / "server.key"),
        )

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
