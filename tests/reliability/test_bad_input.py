"""Bad input: every public function, constructor and method rejects invalid arguments
and invalid states with its documented exception, and the process stays usable.

All cases live in ONE table, ``ROWS`` in ``docs/errors_table.py`` (API, input, expected
exception or return value, exception attributes, the argument the message must name),
each run by its runner, ``RUNS[row.id]`` in ``tests/support/bad_input.py``;
``test_every_row_has_a_runner`` keeps the two in step. ``docs/errors.md`` is rendered from
the table by ``docs/generate.py``; ``test_errors_doc_matches_the_table`` keeps the two
identical. After every case an echo on a long-lived session and an echo on a brand-new
connection must still work.

Hypothesis then drives the argument space: random bytes and text as certificates and
keys (only ``ValueError``/``TypeError``/``OSError``, never a crash), random integers as
close/reset/stop codes (``ValueError`` exactly when outside 0..2**32-1), random close
reasons, URL schemes and datagram sizes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import web_transport as wt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docs.errors_table import ROWS, U32, Row
from tests.support.bad_input import RUNS, Ctx, _maybe_await
from tests.support.peers import Cert, serve

from ._support import BOUND, echo_bytes, echo_server, fresh_echo

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def ctx(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ctx]:
    certs = Cert.generate()
    async with (
        echo_server(certs) as es,
        serve(certs, on_request=None, path="/manual") as manual,
        # The session lives as long as the module and may sit idle for longer than the
        # 30 s idle timeout while other tests run on a loaded machine: keep-alive PINGs
        # (RFC 9000, 10.1.2) keep it open, so no test depends on how fast the others ran.
        certs.client(keep_alive_interval=5.0) as client,
    ):
        session = await asyncio.wait_for(client.connect(es.url), BOUND)
        c = Ctx(certs, es, manual, client, session, tmp_path_factory.mktemp("bad_input"))
        yield c
        c.run_cleanup()


# -- the table test -----------------------------------------------------------------------


# Rust `Debug` forms (`Other(OtherError(Why("...")))`, `Some(Tag(16))`): a message
# shows the user what happened in words, never the binding's internals.
RUST_DEBUG = re.compile(r"\b(?:Other|OtherError|Why|Some|None|Err|Ok)\(")


def _describe(e: BaseException) -> str:
    return f"{type(e).__name__}: {e} {getattr(e, '__notes__', '')}"


async def check_usable(c: Ctx) -> None:
    """The process still works: echo on the long-lived session and on a new connection."""
    assert await asyncio.wait_for(echo_bytes(c.session, b"still ok"), BOUND) == b"still ok"
    assert await fresh_echo(c.echo.url, c.certs, b"fresh") == b"fresh"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(strict=True, reason=f"binding bug: {case.bug}")]
            if case.bug
            else [],
        )
        for case in ROWS
    ],
)
async def test_bad_input(ctx: Ctx, case: Row) -> None:
    run = RUNS.get(case.id)
    assert run is not None, f"{case.id}: no runner in RUNS (tests/support/bad_input.py)"
    raised: BaseException | None = None
    result: Any = None
    try:
        result = await _maybe_await(run(ctx))
    except BaseException as e:  # checked below
        raised = e
    finally:
        ctx.run_cleanup()
    if case.raises is None:
        assert raised is None, f"{case.id}: expected a return, got {_describe(raised)}"
        assert result == case.returns, f"{case.id}: returned {result!r}"
    else:
        assert raised is not None, f"{case.id}: no exception, returned {result!r}"
        assert isinstance(raised, case.raises), (
            f"{case.id}: expected {case.raises.__name__}, got {_describe(raised)}"
        )
        assert not RUST_DEBUG.search(str(raised)), (
            f"{case.id}: Rust Debug text in the message: {_describe(raised)}"
        )
        if case.names:
            text = f"{raised} {' '.join(getattr(raised, '__notes__', []))}"
            assert case.names in text, (
                f"{case.id}: the message does not name {case.names!r}: {_describe(raised)}"
            )
        for name, value in case.attrs.items():
            got = getattr(raised, name)
            assert got == value, f"{case.id}: .{name} == {got!r}, expected {value!r}"
    await check_usable(ctx)


async def test_every_row_has_a_runner() -> None:
    """Each row of the table has exactly one runner, and each runner a row."""
    ids = [row.id for row in ROWS]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, f"rows with the same id (api: given) in docs/errors_table.py: {twice}"
    no_runner = [i for i in ids if i not in RUNS]
    assert not no_runner, f"rows without a runner in tests/support/bad_input.py: {no_runner}"
    no_row = [i for i in RUNS if i not in set(ids)]
    assert not no_row, f"runners without a row in docs/errors_table.py: {no_row}"


async def test_errors_doc_matches_the_table() -> None:
    from docs.render_errors import DOC, render

    assert DOC.read_text() == render(ROWS), (
        "docs/errors.md is out of date: run `uv run python -m docs.generate`"
    )


async def test_table_covers_the_public_api() -> None:
    """Every public class and function appears in the table."""
    apis = {row.api.split(".")[0] for row in ROWS}
    public = {
        "generate_self_signed",
        "certificate_hash",
        "TransportConfig",
        "Server",
        "SessionRequest",
        "Client",
        "Session",
        "SendStream",
        "RecvStream",
    }
    assert public <= apis, public - apis


# -- Hypothesis ------------------------------------------------------------------------------

HYPOTHESIS = settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(data=st.binary(max_size=4096), role=st.sampled_from(["cert", "key", "hash", "ca"]))
async def test_random_bytes_as_certificate_or_key(ctx: Ctx, data: bytes, role: str) -> None:
    try:
        match role:
            case "cert":
                wt.Server(
                    certificate_chain=data, private_key=ctx.certs.private_key, bind="127.0.0.1:0"
                ).close()
            case "key":
                wt.Server(
                    certificate_chain=[ctx.certs.certificate], private_key=data, bind="127.0.0.1:0"
                ).close()
            case "hash":
                wt.certificate_hash(data)
            case _:
                wt.Client(ca_certificates=data).close()
    except (ValueError, TypeError):
        pass
    else:
        raise AssertionError(f"random {role} bytes accepted: {data!r}")


@HYPOTHESIS
@given(text=st.text(max_size=300))
async def test_random_text_as_certificate(ctx: Ctx, text: str) -> None:
    # str is PEM text or a path: ValueError (incl. UnicodeEncodeError) or OSError only.
    with pytest.raises((ValueError, OSError)):
        wt.certificate_hash(text)


CODE_TARGETS = [
    "Session.close",
    "SendStream.reset",
    "RecvStream.stop",
    "Server.close",
    "Client.close",
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def spent(ctx: Ctx) -> dict[str, Any]:
    """Objects already closed/finished/stopped, so that a valid code changes nothing."""
    session = await ctx.client.connect(ctx.echo.url)
    send, recv = await session.open_bi()
    await send.finish()
    recv.stop(0)
    session.close()
    await asyncio.wait_for(session.wait_closed(), BOUND)
    server = wt.Server(
        certificate_chain=[ctx.certs.certificate],
        private_key=ctx.certs.private_key,
        bind="127.0.0.1:0",
    )
    server.close()
    client = wt.Client(server_certificate_hashes=[ctx.certs.hash])
    client.close()
    return {
        "Session.close": session.close,
        "SendStream.reset": send.reset,
        "RecvStream.stop": recv.stop,
        "Server.close": server.close,
        "Client.close": client.close,
    }


@HYPOTHESIS
@given(
    code=st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([-1, 0, U32 - 1, U32, 2**62 - 1, 2**62, 2**63, 2**64]),
    target=st.sampled_from(CODE_TARGETS),
)
async def test_random_ints_as_codes(spent: dict[str, Any], code: int, target: str) -> None:
    valid = 0 <= code < U32
    stateful = target in ("SendStream.reset", "RecvStream.stop")
    if not valid:
        with pytest.raises(ValueError, match="code"):
            spent[target](code)
    elif stateful:
        # A valid code on a finished/stopped stream: the state error, not a code error.
        with pytest.raises(wt.StreamClosedLocally):
            spent[target](code)
    else:
        assert spent[target](code) is None


@HYPOTHESIS
@given(
    reason=st.text(max_size=600)
    | st.builds(lambda a, b: a + "\ud800" + b, st.text(max_size=20), st.text(max_size=20))
    | st.text(alphabet="é€😀", min_size=250, max_size=400)
)
async def test_random_close_reasons(spent: dict[str, Any], reason: str) -> None:
    try:
        encoded = reason.encode()
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            spent["Session.close"](0, reason)
        return
    if len(encoded) > 1024:
        with pytest.raises(ValueError, match="reason"):
            spent["Session.close"](0, reason)
    else:
        assert spent["Session.close"](0, reason) is None


@HYPOTHESIS
@given(
    scheme=st.sampled_from(
        ["http", "ws", "wss", "ftp", "file", "data", "quic", "h3", "javascript"]
    ),
    rest=st.text(max_size=80),
)
async def test_random_non_https_urls(ctx: Ctx, scheme: str, rest: str) -> None:
    with pytest.raises(ValueError, match="url"):
        ctx.client.connect(f"{scheme}://{rest}")


@HYPOTHESIS
@given(size=st.integers(min_value=0, max_value=5000))
async def test_random_datagram_sizes(ctx: Ctx, size: int) -> None:
    limit = ctx.session.max_datagram_size
    if size > limit:
        with pytest.raises(wt.DatagramTooLargeError):
            ctx.session.send_datagram(b"d" * size)
    else:
        assert ctx.session.send_datagram(b"d" * size) is None


async def test_still_usable_after_hypothesis(ctx: Ctx) -> None:
    await check_usable(ctx)
