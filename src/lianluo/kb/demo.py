"""Knowledge-base articles of the demo tenant: the answers a telecom hotline's agents look up
most, in Chinese and English, published and indexed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from lianluo.domain.kb.tokenize import analyze
from lianluo.kb.repository import search_index_repository
from lianluo.models import KbArticle, KbArticleVersion

# (language, category, tags, title, markdown body)
DEMO_ARTICLES: tuple[tuple[str, str, tuple[str, ...], str, str], ...] = (
    (
        "zh",
        "业务办理",
        ("套餐", "资费"),
        "套餐变更办理指南",
        "## 可以怎么办\n\n- 中国联络 APP：我的 → 套餐变更\n- 营业厅：携带本人身份证\n"
        "- 热线 10099 按 2 转人工\n\n## 生效规则\n\n新套餐**次月 1 日生效**，当月仍按原套餐计费；"
        "合约期内的套餐只能升档不能降档。降档请先核实合约到期日。\n",
    ),
    (
        "zh",
        "账单与话费",
        ("话费", "余额"),
        "话费查询与账单说明",
        "## 查询方式\n\n1. 发送短信 **CXHF** 到 10099，回复当月话费与余额\n"
        "2. APP 首页 → 账单 → 详单（可查近 6 个月）\n3. 拨打 10099 按 1 自助查询\n\n"
        "## 常见疑问\n\n- 话费比平时高：先看详单中的流量和增值业务扣费\n"
        "- 余额为负：月初会扣月租，充值后 2 小时内恢复通话\n",
    ),
    (
        "zh",
        "宽带",
        ("宽带", "故障", "光猫"),
        "宽带故障排查（上不了网、网速慢）",
        "## 客户说上不了网\n\n"
        "1. 请客户查看光猫 **LOS/光信号灯**：红灯闪烁表示光纤中断，直接派单报修\n"
        "2. 光猫正常时，请客户重启光猫和路由器（断电 30 秒）\n"
        "3. 仍无法上网：核实是否欠费停机，再远程检测端口\n\n"
        "## 网速慢\n\n请客户用网线直连电脑测速；Wi-Fi 下偏慢多为路由器位置或 2.4G 干扰。\n"
        "报修工单承诺 **24 小时内**上门。\n",
    ),
    (
        "zh",
        "业务办理",
        ("携号转网",),
        "携号转网办理条件",
        "## 条件\n\n- 号码在网满 120 天，无欠费\n- 无未到期合约或已解除合约\n\n"
        "发送短信 **CXXZ** 到 10099 查询携转资格，收到授权码后到新运营商办理。"
        "挽留时可介绍当前可办理的优惠套餐。\n",
    ),
    (
        "zh",
        "国际业务",
        ("漫游", "出境"),
        "国际漫游开通与资费",
        "## 开通\n\n出境前在 APP 或拨打 10099 开通**国际漫游**，境外拨打 +86 10099 免费。\n\n"
        "## 资费\n\n按天计费的流量包比标准资费便宜得多；港澳地区 25 元/天不限量（高速 1GB）。\n",
    ),
    (
        "zh",
        "账单与话费",
        ("退款", "投诉"),
        "重复扣费退款流程",
        "## 核实\n\n在详单中确认同一业务在同一计费周期被扣费两次。\n\n"
        "## 处理\n\n创建**退费工单**（类别：计费争议），原路退回，**7 个工作日**内到账；"
        "告知客户工单号并约定回访时间。\n",
    ),
    (
        "en",
        "International",
        ("roaming", "travel"),
        "International roaming: turning it on and what it costs",
        "## Before travelling\n\nTurn on **international roaming** in the app or by calling "
        "10099. From abroad, +86 10099 is free of charge.\n\n## Charges\n\n"
        "Daily data passes are far cheaper than pay-as-you-go roaming charges. Hong Kong and "
        "Macao: CNY 25 per day, unlimited (1 GB at full speed).\n",
    ),
    (
        "en",
        "Billing",
        ("refund", "billing"),
        "Refund of a double charge",
        "## Check\n\nConfirm in the itemised bill that the same service was charged twice in "
        "one billing cycle.\n\n## Refund\n\nOpen a **refund ticket** (category: billing dispute)."
        " Refunds go back to the original payment method within **7 working days**; give the "
        "customer the ticket number and agree a follow-up call.\n",
    ),
    (
        "en",
        "Plans",
        ("plan", "upgrade"),
        "Changing a mobile plan",
        "Customers can change plans in the app, in a store or through 10099. The new plan "
        "**starts on the 1st of next month**; this month is billed on the old plan. Plans "
        "under contract can only be upgraded until the contract ends.\n",
    ),
    (
        "en",
        "Broadband",
        ("broadband", "outage"),
        "Broadband down or slow",
        "Ask the customer to check the modem's **LOS light**: red means a fibre cut, open a "
        "repair ticket. Otherwise power-cycle the modem and router for 30 seconds. Slow Wi-Fi "
        "is usually the router's position; test over a cable. Repairs: on site within 24 hours.\n",
    ),
)


def seed_kb_articles(
    session: Session,
    tenant_id: str,
    author_user_id: str | None,
    at: datetime,
    new_id: Callable[[datetime], str],
) -> int:
    """Write the demo articles, published as version 1 and indexed; returns how many."""
    for k, (language, category, tags, title, body) in enumerate(DEMO_ARTICLES):
        when = at + timedelta(minutes=k)
        article_id = new_id(when)
        common = {"tenant_id": tenant_id, "language": language, "title": title, "body": body}
        common |= {"category": category, "tags": list(tags), "author_user_id": author_user_id}
        session.execute(
            insert(KbArticle).values(
                id=article_id,
                status="published",
                origin="staff",
                version=1,
                published_version=1,
                published_at=when,
                helpful_count=0,
                not_helpful_count=0,
                created_at=when,
                updated_at=when,
                **common,
            )
        )
        session.execute(
            insert(KbArticleVersion).values(
                id=new_id(when),
                article_id=article_id,
                version=1,
                note="demo",
                created_at=when,
                **common,
            )
        )
        search_index_repository.replace(
            session, tenant_id, article_id, language, analyze(title, body, category, tags)
        )
    return len(DEMO_ARTICLES)
