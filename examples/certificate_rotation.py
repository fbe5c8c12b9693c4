"""Rotate a server's certificate without dropping a session.

Browsers accept a certificate pinned by ``serverCertificateHashes`` only while it is
valid for at most 14 days, so a long-running server must change certificates while
clients are connected. ``Server.reload_certificates`` changes the certificate for new
connections only: established sessions keep theirs, and keep working.

This program checks exactly that on loopback and exits 0 only if it held:

1. three sessions connect and echo, pinned to the current certificate's hash;
2. the server switches to the next certificate;
3. the three sessions are still open and still echo;
4. a new session pinned to the old hash is refused (it gets the new certificate), a new
   session pinned to the new hash connects, and so does one pinned to both: a page that
   pins ``[current, next]`` keeps working across a rotation.

Run it with ``uv run python examples/certificate_rotation.py``; the test suite runs it
(``tests/unit/test_docs.py``, through docs/certificates.md).
"""

import asyncio

import web_transport as wt

NAMES = ["localhost", "127.0.0.1"]


async def echo_streams(session: wt.Session) -> None:
    """Echo every bidirectional stream of ``session`` until it closes."""
    try:
        while True:
            send, recv = await session.accept_bi()
            await send.write(await recv.read())
            await send.finish()
    except wt.SessionError:
        pass


async def accept_all(server: wt.Server, tasks: set[asyncio.Task[None]]) -> None:
    async for request in server:
        session = await request.accept()
        task = asyncio.create_task(echo_streams(session))
        tasks.add(task)
        task.add_done_callback(tasks.discard)


async def echo(session: wt.Session, data: bytes) -> bytes:
    send, recv = await session.open_bi()
    await send.write(data)
    await send.finish()
    return await recv.read()


async def main() -> None:
    current_cert, current_key = wt.generate_self_signed(NAMES)
    next_cert, next_key = wt.generate_self_signed(NAMES)
    current_hash = wt.certificate_hash(current_cert)
    next_hash = wt.certificate_hash(next_cert)
    tasks: set[asyncio.Task[None]] = set()

    async with wt.Server(
        certificate_chain=[current_cert], private_key=current_key, bind="127.0.0.1:0"
    ) as server:
        url = f"https://127.0.0.1:{server.local_addr[1]}/echo"
        accepting = asyncio.create_task(accept_all(server, tasks))
        async with (
            wt.Client(server_certificate_hashes=[current_hash]) as old_client,
            wt.Client(server_certificate_hashes=[next_hash]) as new_client,
            wt.Client(server_certificate_hashes=[current_hash, next_hash]) as both_client,
        ):
            before = [await old_client.connect(url) for _ in range(3)]
            for session in before:
                assert await echo(session, b"before") == b"before"

            server.reload_certificates([next_cert], next_key)
            print("reloaded: new connections get", next_hash.hex()[:16], flush=True)

            for session in before:
                assert session.close_reason is None, session.close_reason
                assert await echo(session, b"after") == b"after"
            print(f"{len(before)} sessions from before the reload still echo", flush=True)

            try:
                await old_client.connect(url)
            except wt.ConnectError as e:
                print("old hash refused, as it should be:", type(e).__name__, flush=True)
            else:
                raise AssertionError("a session pinned to the old hash was accepted")

            for client in (new_client, both_client):
                session = await client.connect(url)
                assert await echo(session, b"new") == b"new"
                session.close(0, "done")
            print("new sessions use the new certificate", flush=True)

            for session in before:
                session.close(0, "done")
        accepting.cancel()
    print("rotation kept every session", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
