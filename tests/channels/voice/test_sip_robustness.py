"""The endpoint against raw datagrams: malformed SIP answered 400 or dropped, bad RTP dropped,
while a call in progress is not disturbed; OPTIONS, CANCEL, re-INVITE for hold, REGISTER with a
wrong password; and a fuzz of the parser and of the endpoint's receive path."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lianluo.channels.voice import sip
from lianluo.channels.voice.media import CallEnded, Prompt
from lianluo.channels.voice.server import Call, Registrar, SipEndpoint
from lianluo.voice.service import digest_ha1

pytestmark = pytest.mark.timeout(60)

SDP = (
    "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
)


class Peer:
    """A bare UDP SIP peer for tests: sends text, reads responses."""

    def __init__(self, server_port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.rtp_port = self.rtp.getsockname()[1]
        self.server = ("127.0.0.1", server_port)

    def close(self) -> None:
        self.sock.close()
        self.rtp.close()

    def send(self, data: bytes | str) -> None:
        self.sock.sendto(data.encode() if isinstance(data, str) else data, self.server)

    async def recv(self, timeout_s: float = 3.0, skip_provisional: bool = True) -> sip.SipMessage:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), deadline - loop.time())
            try:
                message = sip.parse(data)
            except sip.SipParseError:  # our 400 echoes the bad header back: read the status
                message = sip.SipMessage(status=int(data.split(b" ", 2)[1]))
            if skip_provisional and message.status is not None and message.status < 200:
                continue
            return message

    async def nothing(self, wait_s: float = 0.3) -> bool:
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_recv(self.sock, 65535), wait_s)
        except TimeoutError:
            return True
        return False

    def request(
        self, method: str, call_id: str, cseq: int, *, branch: str = "", to_tag: str = "",
        body: str = "", extra: str = "",
    ) -> str:  # fmt: skip
        branch = branch or sip.new_branch()
        to = f"<sip:4008@127.0.0.1>{';tag=' + to_tag if to_tag else ''}"
        content = "Content-Type: application/sdp\r\n" if body else ""
        return (
            f"{method} sip:4008@127.0.0.1:{self.server[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}\r\n"
            f"From: <sip:13800138000@127.0.0.1>;tag=caller1\r\nTo: {to}\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:13800138000@127.0.0.1:{self.port}>\r\nMax-Forwards: 70\r\n"
            f"{extra}{content}Content-Length: {len(body)}\r\n\r\n{body}"
        )

    def invite(self, call_id: str, branch: str = "", direction: str = "sendrecv") -> str:
        return self.request(
            "INVITE", call_id, 1, branch=branch,
            body=SDP.format(port=self.rtp_port, direction=direction),
        )  # fmt: skip


@pytest.fixture
async def endpoint() -> AsyncIterator[SipEndpoint]:
    async def on_call(call: Call) -> None:
        if call.dialled == "slow":
            await asyncio.sleep(10)  # never answers: for CANCEL
        await call.answer()
        await call.loop(Prompt.tone("hold", 300, 1.0))
        await call.ended.wait()

    ha1 = digest_ha1("1001", "test", "right")
    ep = SipEndpoint(on_call, registrar=Registrar("test", lambda u: ha1 if u == "1001" else None))
    await ep.start()
    yield ep
    await ep.close()


async def answered_call(peer: Peer, call_id: str) -> sip.SipMessage:
    peer.send(peer.invite(call_id))
    ok = await peer.recv()
    assert ok.status == 200
    tag = sip.param(ok.get("to") or "", "tag") or ""
    peer.send(peer.request("ACK", call_id, 1, to_tag=tag))
    return ok


async def rtp_arrives(peer: Peer) -> bool:
    loop = asyncio.get_running_loop()
    try:
        while True:  # drain, then wait for a fresh packet
            peer.rtp.recv(2048)
    except BlockingIOError:
        pass
    try:
        await asyncio.wait_for(loop.sock_recv(peer.rtp, 2048), 1.0)
    except TimeoutError:
        return False
    return True


class TestMalformed:
    async def test_garbage_is_answered_or_dropped_and_the_call_goes_on(
        self, endpoint: SipEndpoint
    ) -> None:
        peer = Peer(endpoint.port)
        try:
            ok = await answered_call(peer, "live-call")
            tag = sip.param(ok.get("to") or "", "tag") or ""
            assert await rtp_arrives(peer)
            # not SIP at all: dropped, no answer
            peer.send(b"\x00\xff\x13 garbage \x80")
            peer.send(b"HELLO WORLD\r\n\r\n")
            assert await peer.nothing()
            # a request with a bad CSeq and a bad header line: answered 400
            bad = peer.request("OPTIONS", "x1", 1).replace("CSeq: 1 OPTIONS", "CSeq: one OPTIONS")
            peer.send(bad)
            reply = await peer.recv()
            assert reply.status == 400
            peer.send(peer.request("OPTIONS", "x2", 1).replace("Max-Forwards", "Max Forwards"))
            assert (await peer.recv()).status == 400
            # Content-Length beyond the datagram
            peer.send(
                peer.request("INVITE", "x3", 1, body="v=0").replace("Length: 3", "Length: 99")
            )
            assert (await peer.recv()).status == 400
            # an INVITE without any codec we speak: 488
            body = SDP.format(port=peer.rtp_port, direction="sendrecv").replace(
                "RTP/AVP 0 101", "RTP/AVP 18"
            )
            peer.send(peer.request("INVITE", "x4", 1, body=body))
            assert (await peer.recv()).status == 488
            # bad RTP at the call's media port does not stop it
            leg = endpoint.calls["live-call"].leg
            for junk in (b"", b"\x00" * 5, b"\x40" * 20, b"\x80\x00" + b"\x00" * 9):
                peer.rtp.sendto(junk, ("127.0.0.1", leg.local_port))
            await asyncio.sleep(0.1)
            assert leg.dropped >= 3
            assert await rtp_arrives(peer)
            assert endpoint.stats["malformed"] >= 4
            peer.send(peer.request("BYE", "live-call", 2, to_tag=tag))
            assert (await peer.recv()).status == 200
            assert "live-call" not in endpoint.calls
        finally:
            peer.close()


class TestMethods:
    async def test_options(self, endpoint: SipEndpoint) -> None:
        peer = Peer(endpoint.port)
        try:
            peer.send(peer.request("OPTIONS", "o1", 1))
            reply = await peer.recv()
            assert reply.status == 200
            assert "INVITE" in (reply.get("allow") or "")
        finally:
            peer.close()

    async def test_unknown_method_is_405(self, endpoint: SipEndpoint) -> None:
        peer = Peer(endpoint.port)
        try:
            peer.send(peer.request("PUBLISH", "p1", 1))
            assert (await peer.recv()).status == 405
        finally:
            peer.close()

    async def test_retransmitted_invite_gets_the_same_answer_and_one_call(
        self, endpoint: SipEndpoint
    ) -> None:
        peer = Peer(endpoint.port)
        try:
            branch = sip.new_branch()
            peer.send(peer.invite("r1", branch))
            first = await peer.recv()
            peer.send(peer.invite("r1", branch))
            second = await peer.recv()
            assert first.status == second.status == 200
            assert first.get("to") == second.get("to")
            assert endpoint.stats["calls"] == 1
        finally:
            peer.close()

    async def test_cancel_before_answer(self, endpoint: SipEndpoint) -> None:
        peer = Peer(endpoint.port)
        try:
            branch = sip.new_branch()
            invite = peer.invite("c1", branch).replace("sip:4008@", "sip:slow@", 1)
            peer.send(invite)
            await asyncio.sleep(0.2)
            peer.send(peer.request("CANCEL", "c1", 1, branch=branch))
            replies = {(await peer.recv()).status, (await peer.recv()).status}
            assert replies == {200, 487}
            assert "c1" not in endpoint.calls
        finally:
            peer.close()

    async def test_reinvite_puts_the_call_on_hold_and_back(self, endpoint: SipEndpoint) -> None:
        peer = Peer(endpoint.port)
        try:
            ok = await answered_call(peer, "h1")
            tag = sip.param(ok.get("to") or "", "tag") or ""
            hold = peer.request(
                "INVITE", "h1", 2, to_tag=tag,
                body=SDP.format(port=peer.rtp_port, direction="sendonly"),
            )  # fmt: skip
            peer.send(hold)
            reply = await peer.recv()
            assert reply.status == 200
            assert b"a=recvonly" in reply.body
            assert endpoint.calls["h1"].on_hold
            assert not await rtp_arrives(peer)
            peer.send(
                peer.request(
                    "INVITE", "h1", 3, to_tag=tag,
                    body=SDP.format(port=peer.rtp_port, direction="sendrecv"),
                )
            )  # fmt: skip
            assert (await peer.recv()).status == 200
            assert await rtp_arrives(peer)
        finally:
            peer.close()

    async def test_register_with_a_wrong_password_is_refused(self, endpoint: SipEndpoint) -> None:
        peer = Peer(endpoint.port)
        try:
            peer.send(peer.request("REGISTER", "g1", 1).replace("sip:4008@", "sip:1001@"))
            challenge = await peer.recv()
            assert challenge.status == 401
            fields = _digest_fields(challenge.get("www-authenticate") or "")
            for password, expected in (("wrong", 401), ("right", 200)):
                auth = _authorization("1001", password, fields, "sip:127.0.0.1")
                message = peer.request(
                    "REGISTER", "g1", 2 if expected == 401 else 3, extra=auth
                ).replace("<sip:4008@", "<sip:1001@")
                peer.send(message)
                assert (await peer.recv()).status == expected
            assert endpoint.registrar is not None
            assert endpoint.registrar.lookup("1001") is not None
        finally:
            peer.close()

    async def test_a_phone_registered_over_tcp_is_called_on_its_connection(
        self, endpoint: SipEndpoint
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        peer = Peer(endpoint.port)  # its text; sent on the TCP connection instead
        try:

            def register(cseq: int, extra: str = "") -> bytes:
                text = peer.request("REGISTER", "tcp-reg", cseq, extra=extra)
                text = text.replace("<sip:4008@", "<sip:1001@").replace(
                    "SIP/2.0/UDP", "SIP/2.0/TCP"
                )
                return text.encode()

            writer.write(register(1))
            (challenge,) = await TestTcp.responses(reader, 1)
            assert challenge.status == 401
            fields = _digest_fields(challenge.get("www-authenticate") or "")
            writer.write(register(2, _authorization("1001", "right", fields, "sip:127.0.0.1")))
            (ok,) = await TestTcp.responses(reader, 1)
            assert ok.status == 200
            assert endpoint.registrar is not None
            binding = endpoint.registrar.lookup("1001")
            assert binding is not None
            assert endpoint.reliable(binding.addr)  # its connection, not its Contact's port
            dialing = asyncio.ensure_future(
                endpoint.dial(binding.contact, binding.addr, ring_timeout_s=5.0)
            )
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            invite = sip.parse(head + await reader.readexactly(length))
            assert invite.method == "INVITE"
            assert (invite.get("via") or "").startswith("SIP/2.0/TCP")
            writer.write(sip.response_to(invite, 486, to_tag="busy").to_bytes())
            with pytest.raises(CallEnded):
                await dialing
        finally:
            writer.close()
            peer.close()


def _digest_fields(header: str) -> dict[str, str]:
    from lianluo.channels.voice.server import parse_auth

    return parse_auth(header[len("Digest ") :])


def _authorization(user: str, password: str, fields: dict[str, str], uri: str) -> str:
    import hashlib

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{fields['realm']}:{password}")
    ha2 = md5(f"REGISTER:{uri}")
    response = md5(f"{ha1}:{fields['nonce']}:00000001:abc:auth:{ha2}")
    return (
        f'Authorization: Digest username="{user}", realm="{fields["realm"]}", '
        f'nonce="{fields["nonce"]}", uri="{uri}", response="{response}", qop=auth, '
        f'nc=00000001, cnonce="abc", algorithm=MD5\r\n'
    )


# ---- fuzz ----------------------------------------------------------------------------------

VALID = (
    b"INVITE sip:4008@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:4008@c>\r\nCall-ID: f1\r\nCSeq: 1 INVITE\r\n"
    b"Content-Length: 4\r\n\r\nv=0\n"
)


def _mutations() -> st.SearchStrategy[bytes]:
    flips = st.lists(
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8
    ).map(lambda edits: _apply(VALID, edits))
    cuts = st.integers(0, len(VALID)).map(lambda n: VALID[:n])
    return st.one_of(st.binary(max_size=512), flips, cuts, st.text(max_size=300).map(str.encode))


def _apply(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for index, value in edits:
        out[index] = value
    return bytes(out)


@settings(max_examples=1500, deadline=None)
@given(data=_mutations())
def test_the_parser_raises_only_its_own_error(data: bytes) -> None:
    try:
        message = sip.parse(data)
    except sip.SipParseError:
        return
    message.to_bytes()  # whatever parsed can be written back
    _ = message.cseq, message.top_via_branch, message.call_id


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datagrams=st.lists(_mutations(), min_size=1, max_size=5))
def test_the_endpoint_survives_any_datagram(datagrams: list[bytes]) -> None:
    async def scenario() -> None:
        async def on_call(call: Call) -> None:
            await call.hangup(486)

        ep = SipEndpoint(on_call)
        await ep.start()
        try:
            for data in datagrams:
                ep.datagram_received(data, ("127.0.0.1", 9))  # port 9: discard
            await asyncio.sleep(0)
        finally:
            await ep.close()

    asyncio.run(scenario())


class TestTcp:
    """SIP over TCP: messages framed by Content-Length however the stream is cut."""

    @staticmethod
    def options(branch: str, body: bytes = b"") -> bytes:
        head = (
            f"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch={branch}"
            "\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: tcp-1\r\n"
            f"CSeq: 1 OPTIONS\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    @staticmethod
    async def responses(reader: asyncio.StreamReader, n: int) -> list[sip.SipMessage]:
        out = []
        for _ in range(n):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            message = sip.parse(head)
            length = int(message.get("content-length") or 0)
            if length:
                await reader.readexactly(length)
            out.append(message)
        return out

    async def test_split_and_joined_messages(self, endpoint: SipEndpoint) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        first, second = self.options("z9hG4bKa", b"x" * 10), self.options("z9hG4bKb")
        writer.write(b"\r\n\r\n" + first[:7])  # a keep-alive ping, then half a message
        await writer.drain()
        assert await asyncio.wait_for(reader.readexactly(2), 5) == b"\r\n"  # the pong
        await asyncio.sleep(0.05)
        writer.write(first[7:] + second)  # the rest and a whole second one in one segment
        await writer.drain()
        got = await self.responses(reader, 2)
        assert [m.status for m in got] == [200, 200]
        assert [m.top_via_branch for m in got] == ["z9hG4bKa", "z9hG4bKb"]
        writer.close()

    async def test_an_unframeable_stream_is_closed_and_udp_goes_on(
        self, endpoint: SipEndpoint
    ) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", endpoint.port)
        writer.write(self.options("z9hG4bKc").replace(b"Content-Length: 0", b"Content-Length: x"))
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
        writer.close()
        peer = Peer(endpoint.port)
        try:
            peer.send(self.options("z9hG4bKd").decode().replace("TCP", "UDP"))
            assert (await peer.recv()).status == 200
        finally:
            peer.close()
