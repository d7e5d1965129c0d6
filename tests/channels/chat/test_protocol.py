"""The chat protocol over real WebSockets (Starlette's TestClient) on SQLite and PostgreSQL:
sessions from the pre-chat form, messages stored before they are acknowledged, resends and
reconnects without loss or duplicates, malformed frames, the agent's side, transfer,
wrap-up, rating, callback, leave-a-message, tenancy."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from lianluo.models import ChatSession, Contact, Event, Identity, Message
from tests.channels.chat.helpers import make_floor, set_state, start_chat, until

pytestmark = pytest.mark.timeout(60)


def _count(db: Any, conversation_id: str) -> int:
    db.expire_all()
    return db.execute(
        select(func.count()).where(Message.conversation_id == conversation_id)
    ).scalar_one()


def _contact(db: Any, conversation_id: str) -> Contact:
    db.expire_all()
    contact_id = db.execute(
        select(ChatSession.contact_id).where(ChatSession.conversation_id == conversation_id)
    ).scalar_one()
    return db.get(Contact, contact_id)


def _customer_ws(client: Any, token: str, last_seq: int = 0) -> Any:
    return client.websocket_connect(f"/ws/chat?token={token}&last_seq={last_seq}")


class TestSessions:
    def test_nobody_logged_in_leaves_a_message(self, client: Any, floor: Any, db: Any) -> None:
        chat = start_chat(client, floor)
        assert chat["status"] == "closed"
        assert chat["queue"] == {
            "open": True,
            "agents_online": 0,
            "position": None,
            "ewt_s": None,
        }
        with _customer_ws(client, chat["token"]) as ws:
            assert until(ws, "hello")["last_seq"] == 0
            status = until(ws, "status")
            assert status["state"] == "closed"
            assert status["agents_online"] == 0
            ws.send_json({"type": "message", "client_msg_id": "m1", "body": "请回电"})
            assert until(ws, "ack")["seq"] == 1
        assert _count(db, chat["conversation_id"]) == 1
        kinds = db.execute(select(Event.type).where(Event.tenant_id == floor.tenant_id)).scalars()
        assert "chat.message_left" in set(kinds)

    def test_waiting_with_position_and_wait(self, client: Any, floor: Any, db: Any) -> None:
        set_state(client, floor, "alice", "break", "lunch")  # logged in, not taking chats
        first = start_chat(client, floor)
        second = start_chat(client, floor, phone="13900139000", name="李四")
        assert first["status"] == "waiting"
        assert first["queue"]["position"] == 1
        assert second["queue"]["position"] == 2
        # no handled chats yet: AHT 180 s by default, 1 agent x 2 chats -> 2 * 180 / 2
        assert second["queue"]["ewt_s"] == pytest.approx(180.0)
        with _customer_ws(client, second["token"]) as ws:
            status = until(ws, "status")
            assert (status["state"], status["position"], status["ewt_s"]) == ("waiting", 2, 180)

    def test_existing_customer_is_found_by_phone(self, client: Any, floor: Any, db: Any) -> None:
        a = start_chat(client, floor, phone="+86 138-0013-8000")
        b = start_chat(client, floor, phone="13800138000", name="someone else")
        db.expire_all()
        owners = {
            db.execute(
                select(ChatSession.customer_id).where(ChatSession.conversation_id == c)
            ).scalar_one()
            for c in (a["conversation_id"], b["conversation_id"])
        }
        assert len(owners) == 1

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"phone": None, "email": None}, "phone"),
            ({"tenant": "no-such-tenant"}, None),
            ({"queue_id": "nope"}, None),
            ({"phone": "12"}, "phone"),
            ({"email": "not-an-email", "phone": None}, "email"),
            ({"name": "   "}, "name"),
        ],
    )
    def test_bad_pre_chat_form(
        self, client: Any, floor: Any, change: dict[str, Any], field: str | None
    ) -> None:
        body = {"tenant": floor.slug, "queue_id": floor.queue_id, "name": "张三"}
        body["phone"] = "13800138000"
        body.update(change)
        body = {k: v for k, v in body.items() if v is not None}
        r = client.post("/api/v1/chat/sessions", json=body)
        assert r.status_code in (404, 422), r.text
        assert set(r.json()) == {"error"}
        if field:
            assert field in r.text

    def test_outside_business_hours(self, client: Any, chat_ctx: Any, db: Any) -> None:
        # Friday 16:00 in Shanghai: a queue open only on weekends is closed
        floor = make_floor(chat_ctx, chat_ctx.tokens, business_hours={"sat": [["09:00", "18:00"]]})
        set_state(client, floor, "alice", "available")
        chat = start_chat(client, floor)
        assert chat["status"] == "closed"
        assert chat["queue"]["open"] is False
        cfg = client.get(
            "/api/v1/chat/widget-config",
            params={"tenant": floor.slug, "queue_id": floor.queue_id, "lang": "en"},
        )
        assert cfg.status_code == 200
        assert cfg.json()["availability"]["open"] is False
        assert cfg.json()["strings"]["chat_send"] == "Send"


class TestMessages:
    def test_stored_before_ack_and_resend_is_not_stored_twice(
        self, client: Any, floor: Any, db: Any
    ) -> None:
        chat = start_chat(client, floor)
        with _customer_ws(client, chat["token"]) as ws:
            ws.send_json({"type": "message", "client_msg_id": "c-1", "body": "你好"})
            ack = until(ws, "ack")
            assert (ack["seq"], ack["duplicate"]) == (1, False)
            assert _count(db, chat["conversation_id"]) == 1  # stored when acknowledged
            ws.send_json({"type": "message", "client_msg_id": "c-1", "body": "你好"})
            again = until(ws, "ack")
            assert (again["seq"], again["id"], again["duplicate"]) == (1, ack["id"], True)
            ws.send_json({"type": "message", "client_msg_id": "c-2", "body": "在吗"})
            assert until(ws, "ack")["seq"] == 2
        assert _count(db, chat["conversation_id"]) == 2

    def test_reconnect_replays_only_what_was_missed(self, client: Any, floor: Any) -> None:
        chat = start_chat(client, floor)
        with _customer_ws(client, chat["token"]) as ws:
            for k in range(1, 4):
                ws.send_json({"type": "message", "client_msg_id": f"k{k}", "body": f"m{k}"})
                until(ws, "ack", seq=k)
        with _customer_ws(client, chat["token"], last_seq=1) as ws:
            hello = until(ws, "hello")
            assert hello["last_seq"] == 3
            replayed = [ws.receive_json() for _ in range(2)]
            assert [(m["type"], m["seq"], m["body"]) for m in replayed] == [
                ("message", 2, "m2"),
                ("message", 3, "m3"),
            ]

    @pytest.mark.parametrize(
        ("raw", "code"),
        [
            ("not json", "bad_frame"),
            ("[1, 2]", "bad_frame"),
            ('{"type": "dance"}', "validation_error"),
            ('{"type": "message", "body": "no id"}', "validation_error"),
            ('{"type": "message", "client_msg_id": "x", "body": ""}', "validation_error"),
            ('{"type": "message", "client_msg_id": "a b", "body": "x"}', "validation_error"),
            (
                '{"type": "message", "client_msg_id": "z", "body": "nul \\u0000"}',
                "validation_error",
            ),
            ('{"type": "rate", "score": 9}', "validation_error"),
            ('{"type": "rate", "score": 5}', "conflict"),
            ('{"type": "join", "conversation_id": "x"}', "bad_frame"),
            (
                '{"type": "message", "client_msg_id": "b", "body": "' + "x" * 20000 + '"}',
                "frame_too_large",
            ),
        ],
    )
    def test_malformed_frames_get_an_error_and_the_socket_lives(
        self, client: Any, floor: Any, raw: str, code: str
    ) -> None:
        chat = start_chat(client, floor)
        with _customer_ws(client, chat["token"]) as ws:
            until(ws, "status")
            ws.send_text(raw)
            assert until(ws, "error")["code"] == code
            ws.send_bytes(b"\xff\xfe")
            assert until(ws, "error")["code"] == "bad_frame"
            ws.send_json({"type": "ping"})
            until(ws, "pong")

    def test_unknown_token_is_refused(self, client: Any, floor: Any) -> None:
        with _customer_ws(client, "forged") as ws:
            assert until(ws, "error")["code"] == "unauthorized"


class TestWithAgents:
    def _connected(self, client: Any, floor: Any) -> tuple[dict[str, Any], str]:
        set_state(client, floor, "alice", "available")
        chat = start_chat(client, floor)
        assert chat["status"] == "waiting"
        desk = client.get("/api/v1/chat/desk", headers=floor.headers("alice")).json()["items"]
        assert [d["state"] for d in desk] == ["offered"]
        assert desk[0]["expires_s"] is not None
        contact_id = desk[0]["contact_id"]
        r = client.post(f"/api/v1/contacts/{contact_id}/accept", headers=floor.headers("alice"))
        assert r.status_code == 200, r.text
        return chat, contact_id

    def test_offer_pushed_accept_exchange_typing_read(self, client: Any, floor: Any) -> None:
        set_state(client, floor, "alice", "available")
        with client.websocket_connect(f"/ws/desk?token={floor.token('alice')}") as desk:
            assert until(desk, "hello")["agent_id"] == floor.agents["alice"]
            chat = start_chat(client, floor)
            offer = until(desk, "desk", event="contact.offered")
            contact_id = offer["contact_id"]
            with _customer_ws(client, chat["token"]) as cust:
                assert until(cust, "status")["state"] == "waiting"
                cust.send_json({"type": "message", "client_msg_id": "q1", "body": "宽带坏了"})
                until(cust, "ack")
                r = client.post(
                    f"/api/v1/contacts/{contact_id}/accept", headers=floor.headers("alice")
                )
                assert r.status_code == 200
                assert until(cust, "status", state="connected")
                desk.send_json({"type": "join", "conversation_id": chat["conversation_id"]})
                assert until(desk, "joined")["last_seq"] == 1
                assert until(desk, "message")["body"] == "宽带坏了"  # the history
                desk.send_json(
                    {
                        "type": "typing",
                        "conversation_id": chat["conversation_id"],
                        "on": True,
                    }
                )
                assert until(cust, "typing")["sender"] == "agent"
                desk.send_json(
                    {
                        "type": "message",
                        "conversation_id": chat["conversation_id"],
                        "client_msg_id": "a1",
                        "body": "请重启光猫",
                    }
                )
                assert until(desk, "ack")["seq"] == 2
                got = until(cust, "message", seq=2)
                assert (got["sender"], got["body"]) == ("agent", "请重启光猫")
                cust.send_json({"type": "read", "seq": 2})
                assert until(desk, "read")["seq"] == 2
                cust.send_json({"type": "message", "client_msg_id": "q2", "body": "好了，谢谢"})
                assert until(desk, "message", seq=3)["body"] == "好了，谢谢"

    def test_agent_cannot_write_to_a_chat_it_does_not_handle(
        self, client: Any, floor: Any, chat_ctx: Any, db: Any
    ) -> None:
        chat, _ = self._connected(client, floor)
        with client.websocket_connect(f"/ws/desk?token={floor.token('bob')}") as bob:
            until(bob, "hello")
            bob.send_json({"type": "join", "conversation_id": chat["conversation_id"]})
            assert until(bob, "error")["code"] == "forbidden"
        stranger = make_floor(chat_ctx, chat_ctx.tokens, prefix="other")
        with client.websocket_connect(f"/ws/desk?token={stranger.token('alice')}") as other:
            until(other, "hello")
            other.send_json({"type": "join", "conversation_id": chat["conversation_id"]})
            assert until(other, "error")["code"] == "not_found"
        r = client.get(
            f"/api/v1/chat/conversations/{chat['conversation_id']}/messages",
            headers=stranger.headers("sup"),
        )
        assert r.status_code == 404
        with client.websocket_connect("/ws/desk?token=forged") as anon:
            assert until(anon, "error")["code"] == "unauthorized"

    def test_transfer_carries_the_history_then_wrap_up_and_rating(
        self, client: Any, floor: Any, db: Any
    ) -> None:
        chat, contact_id = self._connected(client, floor)
        conv = chat["conversation_id"]
        with _customer_ws(client, chat["token"]) as cust:
            cust.send_json({"type": "message", "client_msg_id": "h1", "body": "账单多扣了50元"})
            until(cust, "ack")
        set_state(client, floor, "bob", "available")
        r = client.post(
            f"/api/v1/contacts/{contact_id}/transfer",
            json={"to_agent_id": floor.agents["bob"], "note": "账单问题，已核实身份"},
            headers=floor.headers("alice"),
        )
        assert r.status_code == 200, r.text
        assert client.get("/api/v1/chat/desk", headers=floor.headers("alice")).json()["total"] == 0
        bob_desk = client.get("/api/v1/chat/desk", headers=floor.headers("bob")).json()["items"]
        assert [(d["state"], d["transfer_note"]) for d in bob_desk] == [
            ("offered", "账单问题，已核实身份")
        ]
        client.post(f"/api/v1/contacts/{contact_id}/accept", headers=floor.headers("bob"))
        with client.websocket_connect(f"/ws/desk?token={floor.token('bob')}") as desk:
            until(desk, "hello")
            desk.send_json({"type": "join", "conversation_id": conv})
            until(desk, "joined")
            assert until(desk, "message")["body"] == "账单多扣了50元"
            with _customer_ws(client, chat["token"], last_seq=1) as cust:
                until(cust, "status", state="connected")
                desk.send_json({"type": "end", "conversation_id": conv})
                assert until(cust, "status", state="ended")
                cust.send_json({"type": "rate", "score": 4, "comment": "快"})
                assert until(cust, "rated")["score"] == 4
                cust.send_json({"type": "rate", "score": 5})
                assert until(cust, "error")["code"] == "conflict"
        r = client.post(
            f"/api/v1/contacts/{contact_id}/wrap-up",
            json={"disposition": "resolved", "notes": "退款50元"},
            headers=floor.headers("bob"),
        )
        assert r.status_code == 200, r.text
        contact = _contact(db, conv)
        assert (contact.state, contact.disposition) == ("ended", "resolved")
        row = db.execute(select(ChatSession.rating).where(ChatSession.conversation_id == conv))
        assert row.scalar_one() == 4
        # the transcript is in the customer's 360 timeline
        view = client.get(
            f"/api/v1/customers/{contact.customer_id}/360", headers=floor.headers("sup")
        ).json()
        bodies = [m["body"] for c in view["timeline"] for m in c["messages"]]
        assert "账单多扣了50元" in bodies

    def test_customer_leaving_the_line_abandons(self, client: Any, floor: Any, db: Any) -> None:
        set_state(client, floor, "alice", "break", "rest")
        chat = start_chat(client, floor)
        with _customer_ws(client, chat["token"]) as cust:
            cust.send_json({"type": "end"})
            until(cust, "status", state="ended")
        assert _contact(db, chat["conversation_id"]).state == "abandoned"

    def test_callback_at_a_time(self, client: Any, floor: Any, db: Any) -> None:
        set_state(client, floor, "alice", "break", "rest")
        chat = start_chat(client, floor, phone=None, email="cb@example.com")
        with _customer_ws(client, chat["token"]) as cust:
            cust.send_json(
                {"type": "callback", "phone": "13700137000", "at": "2027-01-15T18:30:00+08:00"}
            )
            ok = until(cust, "callback_ok")
            assert ok["at"] == pytest.approx(1_800_000_000 + 2.5 * 3600)
            assert until(cust, "status")["state"] == "callback"
            cust.send_json({"type": "callback", "phone": "1", "at": None})
            assert until(cust, "error")["code"] == "validation_error"
        contact = _contact(db, chat["conversation_id"])
        assert (contact.state, contact.callback) == ("callback_scheduled", True)
        phones = db.execute(
            select(Identity.value).where(
                Identity.customer_id == contact.customer_id, Identity.kind == "phone"
            )
        ).scalars()
        assert "+8613700137000" in set(phones)


class TestCannedReplies:
    def test_supervisor_adds_agent_reads(self, client: Any, floor: Any) -> None:
        r = client.post(
            "/api/v1/chat/canned-replies",
            json={"title": "问候", "body": "您好，很高兴为您服务"},
            headers=floor.headers("sup"),
        )
        assert r.status_code == 201, r.text
        denied = client.post(
            "/api/v1/chat/canned-replies",
            json={"title": "x", "body": "y"},
            headers=floor.headers("alice"),
        )
        assert denied.status_code == 403
        page = client.get("/api/v1/chat/canned-replies", headers=floor.headers("alice")).json()
        assert [c["title"] for c in page["items"]] == ["问候"]
        setup = client.get("/api/v1/chat/desk/setup", headers=floor.headers("alice")).json()
        assert "resolved" in setup["dispositions"]
        assert {q["name"] for q in setup["queues"]} == {"在线客服", "账单组"}
        assert [a["id"] for a in setup["agents"]] == [floor.agents["bob"]]


class TestPages:
    def test_widget_script_is_self_contained(self, client: Any) -> None:
        r = client.get("/widget.js")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert "http://" not in r.text.replace("http://HOST", "")
        assert "https://" not in r.text.replace("https://HOST", "")

    def test_demo_page_embeds_the_widget(self, client: Any, floor: Any) -> None:
        r = client.get(f"/demo/chat?tenant={floor.slug}&queue={floor.queue_id}&lang=en")
        assert r.status_code == 200
        assert f'data-queue="{floor.queue_id}"' in r.text
        assert "Lianluo chat demo" in r.text
        anonymous = client.get("/demo/chat")
        assert anonymous.status_code == 200
        assert '<script src="/widget.js"' not in anonymous.text

    def test_desk_needs_a_login_and_speaks_both_languages(self, client: Any, floor: Any) -> None:
        r = client.get("/desk", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/login?next=/desk")
        zh = client.get("/desk", headers=floor.headers("alice"))
        assert "座席工作台" in zh.text
        en = client.get("/desk?lang=en", headers=floor.headers("alice"))
        assert "Agent desk" in en.text
        for reserved in ("desk-tickets", "desk-kb", "desk-insights"):
            assert f'id="{reserved}"' in en.text
