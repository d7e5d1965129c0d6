"""The acceptance path with a real softphone: baresip registers as the agent's phone with
digest auth and auto-answers; SIPp dials in, walks the IVR, is queued and bridged to it. The
phone echoes what it hears (aubridge) and dumps both directions (sndfile), so audio both ways
is checked on the phone's side and in the platform's recording, with sox."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianluo.models import Contact
from tests.channels.voice.sipp_runner import free_udp_port, needs_sipp, run_sipp
from tests.channels.voice.test_voice_app import Center, center, sox_rms, start_app  # noqa: F401

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")

pytestmark = [
    needs_sipp,
    pytest.mark.skipif(
        BARESIP is None or shutil.which("espeak-ng") is None,
        reason="baresip (apt baresip-core) and espeak-ng are needed",
    ),
    pytest.mark.timeout(120),
]


def baresip_config(directory: Path, sip_port: int, registrar_port: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config").write_text(
        f"""poll_method epoll
sip_listen 127.0.0.1:{sip_port}
audio_player aubridge,agent
audio_source aubridge,agent
audio_alert aubridge,alert
snd_path {directory}
module_path {MODULES}
module g711.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
"""
    )
    (directory / "accounts").write_text(
        f"<sip:1001@127.0.0.1:{registrar_port}>;auth_pass=s3cret;answermode=auto;"
        "regint=300;audio_codecs=PCMU,PCMA\n"
    )


async def test_sipp_caller_is_bridged_to_a_registered_baresip_agent(
    center: Center,  # noqa: F811
    session: Session,
    tmp_path: Path,
) -> None:
    center.agent_available()
    app, platform = await start_app(center, tmp_path)
    phone_dir = tmp_path / "baresip"
    baresip_config(phone_dir, free_udp_port(), app.endpoint.port)
    assert BARESIP is not None
    phone = await asyncio.create_subprocess_exec(
        BARESIP, "-f", str(phone_dir), "-t", "60",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(50):
            if app.registrar.lookup("1001") is not None:
                break
            await asyncio.sleep(0.1)
        assert app.registrar.lookup("1001") is not None, "baresip did not register"
        caller = await run_sipp("caller_talks.xml", app.endpoint.port, workdir=tmp_path)
        assert caller.returncode == 0, caller.output
        await asyncio.sleep(0.5)
    finally:
        phone.terminate()
        out, _ = await asyncio.wait_for(phone.communicate(), 10)
        await app.close()
        platform.close()
    log = out.decode("utf-8", "replace")
    (record,) = app.records.values()
    assert record.outcome == "completed", log[-2000:]
    contact = session.execute(select(Contact).where(Contact.id == record.contact_id)).scalar_one()
    assert contact.agent_id == center.agent.id
    assert contact.state == "wrap_up"
    # the phone's own dumps: what it decoded (the caller, through our bridge) is audible
    dumps = sorted(phone_dir.glob("*.wav"))
    assert dumps, log[-2000:]
    assert max(sox_rms(p, 1) for p in dumps) > 0.001
    # the platform's recording of the caller's leg: the caller's speech (left) and, in the
    # bridged part, the agent phone's echo of it (right)
    wav = Path(record.recording)
    assert sox_rms(wav, 1) > 0.001
    assert sox_rms(wav, 2, start_s=4.0) > 0.001
