"""Interoperability with SIPp (Debian ``sip-tester``), an independent SIP implementation, on UDP.

SIPp's built-in ``uac`` scenario calls our UA (INVITE, 200, ACK, BYE) and its ``uas``
scenario answers a call our UA places.  SIPp exits 0 only when every call of its scenario
succeeded, so its exit code is the verdict; our side checks its own events too.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

import pytest

from ethvoip.impl.sip.ua import CallAnswered, CallConfirmed, CallEnded, IncomingCall

from .live import LOOPBACK, SDP, free_port, ua_on_udp, until_udp_port_bound

pytestmark = pytest.mark.integration


def test_sipp_is_installed() -> None:
    # `make test` installs it (apt.txt); a missing binary is a broken install, not a skip
    assert shutil.which("sipp"), "sipp missing: run `make system` (Debian package sip-tester)"


async def _sipp(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        "-m",
        "1",
        "-nostdin",
        "-timeout",  # generous bounds: they only decide when a real failure is reported
        "60s",
        "-timeout_error",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), 90)
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()  # by PID: only the process this test started
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")[-2000:]


def test_sipp_calls_our_ua() -> None:
    async def main() -> None:
        endpoint, ua = await ua_on_udp("bob", None)
        ua_port = ua.config.local_port
        try:
            proc = await _sipp(
                "-sn",
                "uac",
                f"{LOOPBACK}:{ua_port}",
                "-s",
                "bob",
                "-i",
                LOOPBACK,
                "-p",
                "0",  # any port: our UA answers the address in its Via
                "-d",
                "200",
            )
            incoming = await endpoint.next_event(IncomingCall, timeout=60)
            endpoint.do(lambda now: ua.answer(incoming.call_id, SDP, now))
            await endpoint.next_event(CallConfirmed, timeout=60)
            ended = await endpoint.next_event(CallEnded, timeout=60)
            assert ended.by_peer
            code, output = await _finish(proc)
            assert code == 0, output
        finally:
            await endpoint.close()

    asyncio.run(main())


def test_our_ua_calls_sipp() -> None:
    async def main() -> None:
        sipp_port = free_port()  # SIPp binds it itself (see free_port)
        endpoint, ua = await ua_on_udp("alice", None)
        proc = await _sipp("-sn", "uas", "-i", LOOPBACK, "-p", str(sipp_port))
        try:
            await until_udp_port_bound(sipp_port)  # SIPp is listening (not a fixed pause)
            call_id = endpoint.do(
                lambda now: ua.invite(f"sip:service@{LOOPBACK}:{sipp_port}", SDP, now)
            )
            answered = await endpoint.next_event(CallAnswered, timeout=60)
            assert answered.call_id == call_id
            assert answered.sdp.startswith(b"v=0")
            endpoint.do(lambda now: ua.bye(call_id, now))
            code, output = await _finish(proc)
            assert code == 0, output
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            await endpoint.close()

    asyncio.run(main())
